# Single-process mode: `perigee start --single` runs one worker inside the
# primary without hugepages; it answers ping and stops cleanly.
use v5.36;
use lib 'tests/lib';
use Test::More;
use Perigee::Test;

my $lab = Perigee::Test->new(workers => [0], single => 1);
my $free0 = hugepages_free();

# --single runs exactly one worker: two are refused before anything starts.
$lab->write_conf({ workers => [0, 1] });
ok(!$lab->start(quiet => 1), '--single with two workers is refused');
like($lab->start_err, qr/--single runs exactly one worker/, 'and says why');
is_deeply([$lab->instance_pids], [], 'nothing started');
$lab->write_conf({ workers => [0] });

$lab->start_ok('perigee start --single');
my $st = $lab->status;
is($st->{mode}, 'single', 'status: single mode');
is(scalar @{ $st->{workers} }, 1, 'status: one worker');
my $w = $st->{workers}[0];
is($w->{state}, 'running', 'the worker runs');
is($w->{pid}, $st->{pid}, 'inside the primary');
is_deeply([$lab->instance_pids], [$st->{pid}], 'one process');
is_deeply([hugepage_files($lab->prefix)], [], 'no hugepage file (--no-huge)');
is(hugepages_free(), $free0, 'no hugepage used');

is($lab->ping(count => 50), 50, 'ping -c 50: 0% loss') or diag($lab->last_ping);
$st = $lab->wait_idle;
cmp_ok(total($st, 'icmp_echo'), '>=', 50, 'echo requests counted');
is($lab->neigh_mac, lc $st->{mac},
   "the kernel's neighbour entry for 198.18.0.2 is Perigee's MAC");

my $r = $lab->perigee('reload');
like($r->{out}, qr/^reloaded: generation 2$/m, 'reload');
ok(wait_for(sub { ($lab->status // {})->{workers}[0]{generation} == 2 }, 3),
   'the worker sees generation 2');

ok($lab->stop, 'perigee stop');
$lab->clean_ok('stop', pids => [$st->{pid}], hugepages_free => $free0);
done_testing;
