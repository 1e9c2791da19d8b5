# Two workers on net_tap answer ping without loss; the replies are counted
# by the worker that received each request; the kernel learns Perigee's
# MAC through ARP; `perigee status` describes the running server.
use v5.36;
use lib 'tests/lib';
use Test::More;
use Perigee::Test;

my $lab = Perigee::Test->new(workers => [0, 1]);
$lab->start_ok('perigee starts with 2 workers on net_tap');
note(sprintf 'start took %.2f s', $lab->{start_seconds});

# --- status ------------------------------------------------------------------

my $st = $lab->status;
is($st->{name}, $lab->name, 'status: instance name');
is($st->{mode}, 'multi', 'status: multi-process mode');
like($st->{version}, qr/\A\d+\.\d+\.\d+/, 'status: version');
is($st->{address}, SERVER_IP, 'status: address');
like($st->{mac}, qr/\A(?:[0-9A-F]{2}:){5}[0-9A-F]{2}\z/i, 'status: MAC');
ok(pid_alive($st->{pid}), 'status: the primary runs');
is($lab->pidfile_pid, $st->{pid}, 'the pid file names the primary');
ok(-S $lab->runtime . '/control.sock', 'control socket in runtime_dir');
is($st->{generation}, 1, 'status: generation 1');
is(scalar @{ $st->{workers} }, 2, 'status: 2 workers');
for my $i (0, 1) {
	my $w = $st->{workers}[$i];
	subtest "status of worker $i" => sub {
		is($w->{id}, $i, 'id');
		is($w->{state}, 'running', 'running');
		ok(pid_alive($w->{pid}) && $w->{pid} != $st->{pid},
		   'its own live process');
		is($w->{cpu}, $lab->config->{workers}[$i], 'pinned to its CPU');
		is($w->{restarts}, 0, 'no restart');
		is($w->{generation}, $st->{generation}, 'current generation');
		is($w->{mempool_size}, 8191, 'pool of dpdk.mbufs');
		cmp_ok($w->{mempool_free}, '>', 0, 'pool has free mbufs');
		cmp_ok($w->{mempool_free}, '<=', $w->{mempool_size},
		       'free <= size');
		is(scalar keys %{ $w->{drops} }, 31, 'every drop reason listed');
	};
}
{
	my $r = $lab->perigee('status');
	ok($r->{rc} == 0 && $r->{out} =~ /^worker 0 .*running/m
	   && $r->{out} =~ /^worker 1 .*running/m
	   && $r->{out} =~ /\Q$st->{mac}\E/, 'status as a table')
		or diag("$r->{out}$r->{err}");
}

# --- ping --------------------------------------------------------------------

my $before = $lab->wait_idle;
my $got = $lab->ping(count => 200, interval => 0.01);
is($got, 200, 'ping -c 200 -i 0.01: 0% loss') or diag($lab->last_ping);
is($lab->ping(count => 10, size => 1472), 10,
   'full-size (1500-byte) echo requests answered') or diag($lab->last_ping);

my $after = $lab->wait_idle;
my $d = delta(totals($before), totals($after));
cmp_ok($d->{icmp_echo} // 0, '>=', 210, 'echo requests counted (summed)');
my @drops = grep { /\Adrops\./ } keys %$d;
ok(!@drops, 'nothing dropped while pinging')
	or diag(join ', ', map { "$_ +$d->{$_}" } @drops);

# Each reply leaves from the worker that got the request (the kernel picks
# the TAP queue, hence the worker).
my @split;
my $per_worker = worker_deltas($before, $after);
for my $i (0, 1) {
	my %dw = %{ $per_worker->[$i] };
	push @split, "worker $i: echo $dw{icmp_echo}, rx $dw{rx_pkts}, "
		. "tx $dw{tx_pkts}, arp out $dw{arp_out}";
	is($dw{tx_pkts}, $dw{icmp_echo} + $dw{arp_out},
	   "worker $i sent exactly its echo replies and ARP");
	cmp_ok($dw{rx_pkts}, '>=', $dw{icmp_echo},
	       "worker $i answered only what it received");
}
diag("the kernel spread the echo requests: @{[join '; ', @split]}");

# --- ARP ---------------------------------------------------------------------

is($lab->neigh_mac, lc $st->{mac},
   "the kernel's neighbour entry for 198.18.0.2 is Perigee's MAC");
cmp_ok($after->{neighbours}, '>=', 1, 'Perigee learned the kernel side');

ok($lab->stop, 'perigee stop');
done_testing;
