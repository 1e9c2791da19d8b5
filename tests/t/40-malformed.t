# Malformed frames sent from the kernel side: each kind is dropped and
# counted under exactly its own reason, nothing else moves, no worker dies,
# and the server still answers afterwards.
use v5.36;
use lib 'tests/lib';
use Test::More;
use Perigee::Test;

use constant N => 5;               # frames of each kind

my $lab = Perigee::Test->new(workers => [0, 1]);
$lab->start_ok;
# ARP resolved both ways before counting anything.
is($lab->ping(count => 5), 5, 'ping before') or diag($lab->last_ping);
# Frames above 1500 bytes need a larger MTU on the sending side; Perigee
# keeps its own MTU of 1500.
ok($lab->ns_run('ip', 'link', 'set', $lab->iface, 'mtu', 9000),
   'kernel side MTU raised to 9000');

# "KIND COUNTER" pairs; "-" for the well-formed kinds.
my $list = run_cmd(tool('pg-rawframe'), '--list');
my @kinds = map { [split ' '] } split /\n/, $list->{out};
cmp_ok(scalar @kinds, '>=', 20, 'pg-rawframe knows the malformed kinds');

sub drops($d) {
	my $n = 0;
	$n += $d->{$_} for grep { /\Adrops\./ } keys %$d;
	return $n;
}

# Send N frames of a kind; once Perigee has seen them all, the change of
# every counter. Undef if pg-rawframe could not send them (the run_cmd
# result is then in $_[1]).
sub send_kind($kind, $expect_rx, $r_out = undef) {
	my $before = totals($lab->status);
	my $r = $lab->rawframe($kind, N);
	$$r_out = $r if $r_out;
	return undef if $r->{rc} != 0;
	wait_for(sub { (totals($lab->status)->{rx_pkts} // 0)
		       - $before->{rx_pkts} >= $expect_rx }, 3);
	# Frames counted on receive are dropped in the same loop pass; the
	# handoff to another worker takes one more.
	my $d;
	wait_for(sub {
		$d = delta($before, totals($lab->status));
		return drops($d) + ($d->{icmp_echo} // 0) >= N;
	}, 3);
	Time::HiRes::sleep(0.1);
	return delta($before, totals($lab->status));
}

for my $k (@kinds) {
	my ($kind, $counter) = @$k;
	next if $counter eq '-';
	subtest "$kind -> $counter" => sub {
		my $r;
		my $d = send_kind($kind, N, \$r);
		if (!$d && $r->{rc} == 3) {
			# Linux refuses to transmit a frame shorter than the
			# device's link-layer header (dev_validate_header,
			# min_header_len = 14 on Ethernet): eth_short cannot be
			# produced through a TAP device from the kernel side.
			plan skip_all => "the kernel refuses to send it: $r->{err}";
		}
		ok($d, "sent $kind frames") or return diag($r->{err});
		is($d->{"drops.$counter"} // 0, N, "drops.$counter +" . N);
		is(drops($d), N, 'no other drop counter moved')
			or diag(explain({ map { $_ => $d->{$_} } grep { /drops/ } keys %$d }));
		cmp_ok($d->{rx_pkts} // 0, '>=', N, 'received');
		is($d->{icmp_echo} // 0, 0, 'not answered');
		# The kernel may add ARP probes of its own.
		cmp_ok($d->{arp_in} // 0, '>=', N, 'counted as ARP input')
			if $kind =~ /\Aarp-/;
	};
}

subtest 'a valid echo request (control)' => sub {
	my $d = send_kind('good-echo', N);
	ok($d, 'sent');
	is($d->{icmp_echo} // 0, N, 'answered');
	is(drops($d // {}), 0, 'nothing dropped');
};

# Every kind back to back without pauses: no worker may die.
my $before = $lab->status;
my $sent = 0;
for my $k (@kinds) {
	my $r = $lab->rawframe(-g => 0, $k->[0], 50);
	$sent += 50 if $r->{rc} == 0;
}
my $after = $lab->wait_idle;
cmp_ok(total($after, 'rx_pkts') - total($before, 'rx_pkts'), '>=', $sent * 0.9,
       "a storm of $sent mixed frames arrived");

my $st = $lab->status;
is_deeply([map { $_->{restarts} } @{ $st->{workers} }], [0, 0],
	  'no worker restarted');
is_deeply([map { $_->{state} } @{ $st->{workers} }], [qw(running running)],
	  'both workers running');
ok(!$lab->log_grep(qr/exited/), 'no worker exit in the log');
is($lab->ping(count => 20), 20, 'still answers ping') or diag($lab->last_ping);
ok($lab->stop, 'perigee stop');
done_testing;
