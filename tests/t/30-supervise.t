# Supervision: a worker killed with SIGKILL is restarted (with backoff when
# it dies young) while the other keeps serving; reload through the CLI and
# SIGHUP reaches every worker; 100 kills under traffic leak no mbuf.
use v5.36;
use lib 'tests/lib';
use Test::More;
use Time::HiRes qw(time sleep);
use Perigee::Test;

use constant ROUNDS => 50;         # both workers killed per round: 100 kills
use constant STABLE => 1.1;        # seconds up before a kill: base delay

my $lab = Perigee::Test->new(workers => [0, 1]);
$lab->start_ok;

# Warm up (ARP on both sides, pool caches), then the baseline at idle.
is($lab->ping(count => 20), 20, 'ping before the kills') or diag($lab->last_ping);
my $base = $lab->wait_idle;
my @base_free = map { $_->{mempool_free} } @{ $base->{workers} };
note("baseline mempool_free: @base_free");

# Same free mbufs per worker as at the baseline (waiting for idle first).
sub pools_back($what) {
	my $st = $lab->wait_idle;
	my @free = map { $_->{mempool_free} } @{ $st->{workers} };
	is_deeply(\@free, \@base_free, "$what: every pool's mempool_free is "
		  . 'back to the baseline')
		or diag(join '; ', map { "worker $_: mempool_free $free[$_], "
			. "baseline $base_free[$_] (" . ($base_free[$_] - $free[$_])
			. ' mbufs missing)' } 0 .. $#free);
}

# --- one kill ------------------------------------------------------------------

# Kill the worker that answers the pings, so that "ping resumes" means it.
my ($victim) = sort { $base->{workers}[$b]{icmp_echo}
		      <=> $base->{workers}[$a]{icmp_echo} } 0, 1;
my $other = 1 - $victim;
my $old_pid = $base->{workers}[$victim]{pid};
my $other_pid = $base->{workers}[$other]{pid};
my $mark = $lab->log_mark;

my $t0 = time;
ok(kill(KILL => $old_pid), "kill -9 worker $victim (pid $old_pid)");
my $st = $lab->wait_restarted($victim, $old_pid, 2);
ok($st, "worker $victim runs again within 2 s")
	and note(sprintf 'back in %.2f s', time - $t0);
$st //= $lab->status;
my $w = $st->{workers}[$victim];
isnt($w->{pid}, $old_pid, 'under a new pid');
ok(!pid_alive($old_pid), 'the old process is gone');
is($w->{restarts}, 1, 'restarts == 1');
is($st->{workers}[$other]{pid}, $other_pid, "worker $other kept its pid");
is($st->{workers}[$other]{restarts}, 0, "worker $other was not restarted");
ok($lab->log_grep(qr/worker $victim exited on signal 9; restarting in 100 ms/,
		  $mark), 'the death is logged with the base delay');
is($lab->ping(count => 50), 50, 'ping resumes: 0% loss on 50 pings')
	or diag($lab->last_ping);

# Dying young (< 1 s after its start) doubles the delay.
$mark = $lab->log_mark;
$old_pid = $w->{pid};
kill KILL => $old_pid;
$st = $lab->wait_restarted($victim, $old_pid, 3);
ok($st, "worker $victim killed again at once runs again");
ok($lab->log_grep(qr/worker $victim exited on signal 9; restarting in 200 ms/,
		  $mark), 'a worker that died young restarts after 200 ms')
	or diag(join "\n", $lab->log_grep(qr/restarting/, $mark));
is(($st // $lab->status)->{workers}[$victim]{restarts}, 2, 'restarts == 2');
pools_back('after 2 kills');

# --- reload ------------------------------------------------------------------

# Reload through $how; every worker sees the new generation and counts it.
sub reload_ok($how, $do) {
	my $before = $lab->wait_running or return fail("$how: no status");
	my $gen = $before->{generation} + 1;
	$do->($gen);
	my $after = wait_for(sub {
		my $s = $lab->status or return;
		my @behind = grep { $_->{generation} != $gen } @{ $s->{workers} };
		return $s->{generation} == $gen && !@behind ? $s : undef;
	}, 3);
	ok($after, "$how: generation $gen reached the primary and every worker")
		or return diag(explain($lab->status));
	is_deeply([map { $after->{workers}[$_]{reloads}
			 - $before->{workers}[$_]{reloads} } 0, 1], [1, 1],
		  "$how: each worker counted one reload");
	ok($lab->log_grep(qr/reload: generation $gen\b/), "$how: logged");
}

reload_ok('perigee reload', sub ($gen) {
	my $r = $lab->perigee('reload');
	is($r->{out}, "reloaded: generation $gen\n", 'perigee reload answers once every worker has reloaded')
		or diag($r->{err});
});
reload_ok('SIGHUP', sub ($gen) {
	ok(kill(HUP => $lab->pidfile_pid), 'SIGHUP to the primary');
});

# --- 100 kills under traffic ---------------------------------------------------

$base = $lab->wait_running;
my @restarts = map { $_->{restarts} } @{ $base->{workers} };
my $traffic = totals($base);
$mark = $lab->log_mark;
# A bounded ping flood (one TAP queue) and UDP datagrams from varied ports
# (both queues, and the steering rings between the workers).
my $ping = $lab->ns_spawn('ping', '-q', '-n', '-i', '0.002', '-w', 200,
			  SERVER_IP);
my $udp = $lab->ns_spawn($lab->rawframe_cmd(-g => 500, 'udp', 400000, 1024));

my ($kills, $t1, $stuck, %killed) = (0, time, 0);
for my $round (1 .. ROUNDS) {
	# Both restarted (a killed worker shows "running" until the primary
	# has reaped it) and up for STABLE seconds: a kill now restarts after
	# the base delay.
	my $s = wait_for(sub {
		my $s = $lab->status or return;
		my @ok = grep { $_->{state} eq 'running' && $_->{uptime} >= STABLE
				&& $_->{pid} > 1 && !$killed{ $_->{pid} } }
			@{ $s->{workers} };
		return @ok == 2 ? $s : undef;
	}, 10, 0.05);
	unless ($s) { $stuck = $round; last }
	my @pids = map { $_->{pid} } @{ $s->{workers} };
	$killed{$_} = 1 for @pids;
	$kills += kill KILL => @pids;
}
ok(!$stuck, 'the workers came back after every round of kills')
	or diag("stuck in round $stuck: " . explain($lab->status));
is($kills, 2 * ROUNDS, 2 * ROUNDS . ' kill -9 delivered');
# A killed worker still shows "running" until the primary has reaped it: wait
# for both to run under pids that were never killed.
$st = wait_for(sub {
	my $s = $lab->status or return;
	my @new = grep { $_->{state} eq 'running' && $_->{pid} > 1
			 && !$killed{ $_->{pid} } } @{ $s->{workers} };
	return @new == 2 ? $s : undef;
}, 10, 0.05);
ok($st, 'both workers run again under new pids after the kills');
note(sprintf '%d kills in %.1f s', $kills, time - $t1);

my $p = $lab->finish($ping, 'INT');
my $u = $lab->finish($udp, 'TERM');
note("ping flood during the kills: "
     . ($p->{out} =~ /(\d+ packets transmitted.*)/ ? $1 : "$p->{out}$p->{err}"));
cmp_ok(Perigee::Test::ping_received($p->{out}), '>', 0,
       'the flood got answers between kills');
is($u->{rc}, 128 + 15, 'the UDP sender ran until the end') or diag($u->{err});
$traffic = delta($traffic, totals($lab->wait_idle));
note('traffic during the kills: ' . join ', ', map { "$_ $traffic->{$_}" }
     grep { defined $traffic->{$_} } qw(rx_pkts tx_pkts icmp_echo steer_out
					 steer_in drops.ip_proto));

$st //= $lab->status;
is_deeply([map { $st->{workers}[$_]{restarts} - $restarts[$_] } 0, 1],
	  [ROUNDS, ROUNDS], 'each worker restarted once per round')
	or diag(join "\n", $lab->log_grep(qr/worker \d+ exited/, $mark));
my @delays = map { /restarting in (\d+) ms/ ? $1 : () }
	$lab->log_grep(qr/exited on signal 9; restarting/, $mark);
is(scalar @delays, $kills, 'every death logged');
is_deeply([grep { $_ != 100 } @delays], [], 'every restart after the base delay');
my $recovered = 0;
$recovered += $_ for map { /recovered (\d+) mbufs/ ? $1 : () }
	$lab->log_grep(qr/recovered \d+ mbufs/, $mark);
note("the primary recovered $recovered mbufs held by killed workers");

pools_back("after $kills more kills");
is($lab->ping(count => 50), 50, 'ping after the kills: 0% loss')
	or diag($lab->last_ping);
ok($lab->stop, 'perigee stop');
done_testing;
