# Software flow steering: the kernel spreads UDP flows over the TAP queues
# by its own hash; a worker that receives a datagram whose 4-tuple another
# worker owns (Toeplitz) hands it over through a ring. Every datagram ends
# at its owner (which, with no UDP handler yet, drops it as ip_proto) and
# none is lost in the handoff.
use v5.36;
use lib 'tests/lib';
use Test::More;
use Perigee::Test;

# Source ports SPORT, SPORT + STEP, ...: with consecutive ports the owners
# simply alternate (the hash is linear); a stride of 3 splits them unevenly.
use constant { N => 200, SPORT => 20000, STEP => 3, DPORT => 80 };

my $lab = Perigee::Test->new(workers => [0, 1]);

# The test's own Toeplitz against the Microsoft RSS verification vectors.
is(sprintf('%08x', toeplitz(pack 'C4C4nn', 66, 9, 149, 187, 161, 142, 100, 80,
			      2794, 1766)), '51ccc178',
   'Toeplitz helper: RSS spec vector (TCP/IPv4)');
is(sprintf('%08x', toeplitz(pack 'C4C4', 66, 9, 149, 187, 161, 142, 100, 80)),
   '323e8fc2', 'Toeplitz helper: RSS spec vector (IPv4)');

$lab->start_ok;
is($lab->ping(count => 5), 5, 'ping before') or diag($lab->last_ping);
my $before = $lab->wait_idle;

my @ports = map { SPORT + $_ * STEP } 0 .. N - 1;
my $r = $lab->rawframe('udp', N, SPORT, STEP);
is($r->{rc}, 0, N . " UDP datagrams sent from ports $ports[0], $ports[1] .. "
   . $ports[-1]) or diag($r->{err});
wait_for(sub { total($lab->status, 'drops.ip_proto')
	       - total($before, 'drops.ip_proto') >= N }, 5);
my $after = $lab->wait_idle;

my @d = @{ worker_deltas($before, $after) };
my $sum = sub ($k) { $d[0]{$k} + $d[1]{$k} };
for my $i (0, 1) {
	note("worker $i: " . join ', ', map { "$_ $d[$i]{$_}" }
	     qw(rx_pkts steer_out steer_in drops.ip_proto));
}

is($sum->('rx_pkts'), N, 'every datagram was received once');
cmp_ok($sum->('steer_out'), '>', 0, 'some arrived at the wrong worker');
is($sum->('steer_out'), $sum->('steer_in'),
   'every handoff was taken in by the owner (steer_out == steer_in)');
is($sum->('drops.steer_full'), 0, 'no steering ring overflowed');
is($sum->('drops.ip_proto'), N,
   'all of them reached the protocol layer: none lost in the handoff');

# Who should have handled what.
my @owned = (0, 0);
$owned[ steer_owner(CLIENT_IP, $_, SERVER_IP, DPORT, 2) ]++ for @ports;
is_deeply([map { $d[$_]{'drops.ip_proto'} } 0, 1], \@owned,
	  "each worker handled exactly the flows it owns (@owned)");
for my $i (0, 1) {
	is($d[$i]{rx_pkts} - $d[$i]{steer_out} + $d[$i]{steer_in},
	   $d[$i]{'drops.ip_proto'},
	   "worker $i: received - handed out + taken in = handled");
}

my $st = $lab->status;
is_deeply([map { $_->{restarts} } @{ $st->{workers} }], [0, 0],
	  'no worker restarted');
ok($lab->stop, 'perigee stop');
done_testing;
