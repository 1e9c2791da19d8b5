#!/usr/bin/perl
# Write the seed corpus of fuzz_tcp (tests/fuzz/corpus/tcp/): each starting
# state with a few ordinary stories (data both ways, out of order data,
# SACK, FIN, RST, retransmission timeouts). The record format is described
# in tests/fuzz/fuzz_tcp.c (pg_fuzz_record).
#   tests/fuzz/seeds.pl [DIR]
use strict;
use warnings;

my $dir = shift // 'tests/fuzz/corpus/tcp';
my ($FIN, $SYN, $RST, $PSH, $ACK) = (1, 2, 4, 8, 16);

# seg(flags, seq offset, ack offset, window, selector, payload, extras...)
sub off { my $b = shift; return ($b << 1) & 0xffff }    # byte offsets
sub seg {
	my ($fl, $so, $ao, $win, $sel, $plen, @x) = @_;
	return pack('C C n n n C n', 0, $fl, off($so), off($ao), $win, $sel,
		    $plen) . join('', @x);
}
sub app { pack 'C C n', 6, @_ }        # op, n
sub clock { pack 'C n', 7, @_ }        # ms = v * v / 16
sub sack { pack 'n n', @_ }            # back from stack_nxt, length

my %story = (
	data     => seg($PSH | $ACK, 0, 0, 65535, 1, 100)
		  . seg($PSH | $ACK, 0, 0, 65535, 1, 1460) . clock(200),
	ooo      => seg($ACK, 1460, 0, 65535, 1, 1000)
		  . seg($ACK, 0, 0, 65535, 1, 1460) . clock(200),
	write    => app(0, 3000) . clock(100)
		  . seg($ACK, 0, -1000, 65535, 1, 0) . clock(2000),
	sack     => app(14, 0) . seg($ACK, 0, -3000, 65535, 3, 0, sack(2000, 1000))
		  . seg($ACK, 0, -3000, 65535, 3, 0, sack(1500, 1500))
		  . seg($ACK, 0, -3000, 65535, 3, 0, sack(1000, 1000))
		  . clock(400),
	fin      => seg($FIN | $ACK, 0, 0, 65535, 1, 10) . app(2, 0)
		  . seg($ACK, 0, 0, 65535, 1, 0) . clock(30000),
	rst      => seg($RST, 0, 0, 0, 0, 0) . clock(100),
	zerownd  => app(0, 2000) . seg($ACK, 0, 0, 0, 1, 0) . clock(5000)
		  . seg($ACK, 0, 0, 65535, 1, 0),
	refuse   => app(6, 0) . seg($PSH | $ACK, 0, 0, 65535, 1, 500)
		  . app(5, 0) . clock(100),
	timeout  => app(0, 500) . clock(60000) . clock(60000),
	close    => app(0, 100) . app(3, 0) . seg($PSH | $ACK, 0, 0, 65535, 1, 5)
		  . clock(60000),
	syn      => seg($SYN, 0, 0, 65535, 0, 0) . clock(100),
	connect  => app(10, 0) . clock(1000) . clock(8000),
);

mkdir $dir;
for my $start (0 .. 7) {
	for my $name (sort keys %story) {
		for my $set (0, 0x0f) {
			my $file = sprintf '%s/%d-%s-%02x', $dir, $start, $name, $set;
			open my $fh, '>:raw', $file or die "$file: $!";
			print $fh pack('C C C', $start, $set, 0), $story{$name};
			close $fh or die "$file: $!";
		}
	}
}
