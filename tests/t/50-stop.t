# Stopping: `perigee stop`, SIGTERM and SIGINT each leave no process, no
# DPDK runtime directory, no hugepage file and no runtime directory, and
# give the hugepages back; the same configuration starts again afterwards.
use v5.36;
use lib 'tests/lib';
use Test::More;
use Perigee::Test;

my $lab = Perigee::Test->new(workers => [0, 1]);
my $free0 = hugepages_free();
my $nr0 = nr_hugepages();

# The pids of a running server (primary first).
sub pids_of($st) { ($st->{pid}, map { $_->{pid} } @{ $st->{workers} }) }

$lab->start_ok;
is($lab->ping(count => 10), 10, 'ping') or diag($lab->last_ping);
my $st = $lab->status;
my @pids = pids_of($st);
# A second start over the running instance is refused and harms nothing.
ok(!$lab->start(quiet => 1), 'a second start while running is refused');
like($lab->start_err, qr/already running/, 'and says why');
is_deeply([pids_of($lab->status)], \@pids, 'the running server is untouched');
is($lab->ping(count => 10), 10, 'and still answers') or diag($lab->last_ping);
# The checks below look where the files really are.
ok(-d dpdk_runtime_dir($lab->prefix), 'running: DPDK runtime directory exists');
ok(scalar hugepage_files($lab->prefix), 'running: hugepage files exist');
cmp_ok(hugepages_free(), '<', $free0, 'running: hugepages in use');

# --- perigee stop ----------------------------------------------------------------

my $r = $lab->perigee({ timeout => 30 }, 'stop');
is($r->{rc}, 0, 'perigee stop exits 0') or diag($r->{err});
is($r->{out}, "stopped\n", 'perigee stop answers once stopped');
$lab->clean_ok('perigee stop', pids => \@pids, hugepages_free => $free0);
is(nr_hugepages(), $nr0, 'nr_hugepages unchanged (they were reserved before)');
ok($lab->log_grep(qr/\[notice\] \d+#primary: stopped$/), 'the log says stopped');
ok($lab->log_grep(qr/worker 0 stopped/) && $lab->log_grep(qr/worker 1 stopped/),
   'both workers finished their loop');
ok(!$lab->log_grep(qr/did not stop|killing it/), 'no worker had to be killed');
$r = $lab->perigee('status');
is($r->{rc}, 2, 'status after stop: no server');
like($r->{err}, qr/no server answers on \Q${\ $lab->runtime}\E\/control\.sock/,
     'status after stop says why');

# --- the same configuration again, stopped with SIGTERM ---------------------------

$lab->start_ok('the same configuration starts again');
is($lab->ping(count => 10), 10, 'ping after the restart') or diag($lab->last_ping);
$st = $lab->status;
@pids = pids_of($st);
ok(kill(TERM => $st->{pid}), 'SIGTERM to the primary');
ok(wait_for(sub { !pid_alive($st->{pid}) }, 15), 'the primary exits');
$lab->clean_ok('SIGTERM', pids => \@pids, hugepages_free => $free0);
ok($lab->log_grep(qr/signal 15: stopping/), 'the log names the signal');

# --- hugepages the server reserves itself, stopped with SIGINT --------------------

$lab->teardown;      # gives back the pages the test reserved
SKIP: {
	my $free = hugepages_free();
	skip "$free hugepages are free: the server would not reserve any", 7
		if $free != 0;
	my $nr = nr_hugepages();
	my $own = Perigee::Test->new(workers => [0, 1], hugepages => 0);
	$own->start_ok('starts with no free hugepage');
	my @reserved = $own->log_grep(qr/reserved \d+ hugepages/);
	ok(@reserved, 'it reserved hugepages itself') or $own->diag_log;
	cmp_ok(nr_hugepages(), '>', $nr, 'nr_hugepages raised');
	is($own->ping(count => 10), 10, 'ping') or diag($own->last_ping);
	$st = $own->status;
	ok(kill(INT => $st->{pid}), 'SIGINT to the primary');
	ok(wait_for(sub { !pid_alive($st->{pid}) }, 15), 'the primary exits');
	$own->clean_ok('SIGINT', pids => [pids_of($st)], hugepages_free => 0);
	is(nr_hugepages(), $nr, 'nr_hugepages back to its value before start');
}
done_testing;
