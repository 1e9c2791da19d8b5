#!/usr/bin/perl
# Write the seed corpus of fuzz_h2 (tests/fuzz/corpus/h2/): ordinary
# HTTP/2 client stories after the preface (the input format is described
# in tests/fuzz/fuzz_h2.c: a chunk byte, an application byte, frames).
#   tests/fuzz/seeds_h2.pl [DIR]
use strict;
use warnings;

my $dir = shift // 'tests/fuzz/corpus/h2';
my ($DATA, $HEADERS, $RST, $SETTINGS, $PING, $GOAWAY, $WU, $CONT) =
	(0, 1, 3, 4, 6, 7, 8, 9);
my ($END_STREAM, $ACK, $END_HEADERS) = (1, 1, 4);

sub frame {
	my ($type, $flags, $sid, $pay) = @_;
	$pay //= '';
	my $len = length $pay;
	return pack('C3 C C N', $len >> 16, ($len >> 8) & 255, $len & 255,
		    $type, $flags, $sid) . $pay;
}
# literal header fields without indexing, new names
sub hpack { my $b = ''; while (my ($n, $v) = splice @_, 0, 2) {
	$b .= pack('C C/a* C/a*', 0, $n, $v) } return $b }
sub req { hpack(':method', shift, ':scheme', 'http', ':authority', 'a',
		':path', shift, @_) }

my $hello = frame($SETTINGS, 0, 0) . frame($SETTINGS, $ACK, 0);
my %story = (
	get      => frame($HEADERS, $END_HEADERS | $END_STREAM, 1,
			  req('GET', '/x?y=1')),
	post     => frame($HEADERS, $END_HEADERS, 1,
			  req('POST', '/p', 'content-length', '10'))
		  . frame($DATA, 0, 1, 'hello')
		  . frame($DATA, $END_STREAM, 1, 'world'),
	trailers => frame($HEADERS, $END_HEADERS, 3, req('POST', '/t'))
		  . frame($DATA, 0, 3, 'abc')
		  . frame($HEADERS, $END_HEADERS | $END_STREAM, 3,
			  hpack('x-sum', '1')),
	cookies  => frame($HEADERS, $END_HEADERS | $END_STREAM, 1,
			  req('GET', '/', 'cookie', 'a=1', 'cookie', 'b=2')),
	cont     => frame($HEADERS, 0, 1, req('GET', '/c'))
		  . frame($CONT, 0, 1, hpack('x-a', '1'))
		  . frame($CONT, $END_HEADERS, 1, hpack('x-b', '2')),
	reset    => frame($HEADERS, $END_HEADERS | $END_STREAM, 1,
			  req('GET', '/r'))
		  . frame($RST, 0, 1, pack('N', 8)),
	ping     => frame($PING, 0, 0, 'pingpong') . frame($WU, 0, 0,
							pack('N', 1000)),
	goaway   => frame($HEADERS, $END_HEADERS | $END_STREAM, 1,
			  req('GET', '/g'))
		  . frame($GOAWAY, 0, 0, pack('N N', 1, 0)),
	many     => join('', map { frame($HEADERS, $END_HEADERS | $END_STREAM,
				       2 * $_ + 1, req('GET', "/$_")) } 0 .. 9),
);
my %apps = (now => "\x01", held => "\x00", trailers => "\x03");
for my $name (sort keys %story) {
	for my $app (sort keys %apps) {
		for my $chunk ("\x3f", "\x07") {
			my $f = sprintf '%s/%s-%s-%d', $dir, $name, $app,
				ord($chunk);
			open my $fh, '>:raw', $f or die "$f: $!";
			print $fh $chunk, $apps{$app}, $hello, $story{$name};
			close $fh;
		}
	}
}
