# The Lua application file: `perigee check` and `start` refuse one that
# does not load; `perigee reload` loads it afresh in every worker and
# answers only when all have, and a broken version is reported (non-zero
# exit, file and line) while the previous one keeps serving.
use v5.36;
use lib 'tests/lib';
use Test::More;
use Perigee::Test;

my $lab = Perigee::Test->new(workers => [0, 1]);
my $app = $lab->dir . '/app.lua';

sub write_app($text) {
	open(my $f, '>', $app) or die "$app: $!";
	print $f $text;
	close($f) or die "$app: $!";
}

write_app("local app = require('perigee').app()\nreturn app,\n");
$lab->write_conf({ workers => [0, 1], app => $app });
my $r = $lab->perigee('check');
isnt($r->{rc}, 0, 'check: an app that does not parse is refused');
like($r->{err}, qr/app\.lua:\d+:/, 'check: with its file and line');
ok(!$lab->start(quiet => 1), 'start: refused too');
like($lab->start_err, qr/the application does not load: .*app\.lua:\d+:/,
     'start: says why');

write_app("local app = require('perigee').app()\napp:get('/', function(req, res) return res:send('v1') end)\nreturn app\n");
$r = $lab->perigee('check');
is($r->{rc}, 0, 'check: a good app passes') or diag($r->{err});
$lab->start_ok;

$r = $lab->perigee('reload');
is($r->{rc}, 0, 'reload of a good app succeeds') or diag($r->{out});
like($r->{out}, qr/^reloaded: generation 2$/m, 'and says so');

write_app("local app = require('perigee').app(\nreturn app\n");
$r = $lab->perigee('reload');
isnt($r->{rc}, 0, 'reload of a broken app fails');
like($r->{out}, qr/^error: worker 0: .*app\.lua:\d+:/m, 'worker 0 says why');
like($r->{out}, qr/^error: worker 1: .*app\.lua:\d+:/m, 'worker 1 says why');
my $st = $lab->status;
is_deeply([map { $_->{state} } @{ $st->{workers} }], ['running', 'running'],
	  'both workers keep running');
ok($lab->log_grep(qr/failed: .*the previous application keeps serving/),
   'the failure is logged');

write_app("error('refusing to start')\n");
$r = $lab->perigee('reload');
like($r->{out}, qr/^error: worker \d: .*refusing to start/m,
     'a runtime error while loading is reported too');

write_app("return { name = 'not an app' }\n");
$r = $lab->perigee('reload');
like($r->{out}, qr/^error: worker \d: .*must end with "return app"/m,
     'so is a file that does not return an app');

write_app("return require('perigee').app()\n");
$r = $lab->perigee('reload');
is($r->{rc}, 0, 'a fixed app reloads again') or diag($r->{out});
like($r->{out}, qr/^reloaded: generation 6$/m, 'generation 6');
is(scalar(grep { $_->{restarts} } @{ $lab->status->{workers} }), 0,
   'no worker restarted along the way');

ok($lab->stop, 'perigee stop');
done_testing;
