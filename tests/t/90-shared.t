# Shared dictionaries: the primary creates one memzone per `shared` entry;
# `perigee status` shows them; they stay through a worker's kill -9, a
# reload, and go at stop. (Their contents are exercised by the C unit tests
# and, with the Lua binding, by the handler tests.)
use v5.36;
use lib 'tests/lib';
use Test::More;
use Perigee::Test;

my $lab = Perigee::Test->new(workers => [0, 1],
			     conf => { shared => { cache => 2**20,
						   limits => 65536 } });

# A bad dictionary is refused before anything starts.
my $long = 'abcdefghijklmnopqrstuv';
$lab->write_conf({ shared => { $long => 65536 } });
ok(!$lab->start(quiet => 1), 'a 22-byte dictionary name is refused');
like($lab->start_err, qr/key 'shared\.$long': a dictionary name is 1 to 21/,
     'and the error names the key');
delete $lab->config->{shared}{$long};
$lab->write_conf;

$lab->start_ok;
my $st = $lab->status;
my %d = map { $_->{name} => $_ } @{ $st->{shared} // [] };
is_deeply([sort keys %d], ['cache', 'limits'], 'status lists both');
cmp_ok($d{cache}{capacity}, '>', 2**20 - 2**20 / 64 - 1024, 'cache capacity');
cmp_ok($d{cache}{capacity}, '<', 2**20, 'below its memzone');
is($d{cache}{free}, $d{cache}{capacity}, 'cache: all free');
is($d{limits}{items}, 0, 'limits: no item');
is($d{limits}{evictions}, 0, 'limits: no eviction');

my $r = $lab->perigee('status');
like($r->{out}, qr/^shared cache\s+capacity \d+  free \d+  items 0/m,
     'the text status shows them');

my $old = $st->{workers}[1]{pid};
ok(kill(KILL => $old), 'kill -9 worker 1');
ok($lab->wait_restarted(1, $old, 3), 'worker 1 runs again (it attached '
   . 'to the dictionaries)');
$r = $lab->perigee('reload');
is($r->{rc}, 0, 'reload');
$st = $lab->status;
is(scalar @{ $st->{shared} }, 2, 'both dictionaries are still there');

ok($lab->stop, 'perigee stop');
$lab->clean_ok("after stop");
done_testing;
