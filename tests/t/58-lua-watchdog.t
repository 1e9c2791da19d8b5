# The Lua watchdog and development reloads.
# - A handler that computes without yielding (interpreted code) is
#   interrupted after lua.cpu_limit_ms: a 500 naming the request id, the
#   error and traceback logged with the route, the worker keeps running
#   (no restart) and serves the next request.
# - A loop LuaJIT compiled into one trace ignores the interrupt: the worker
#   is restarted lua.kill_after_ms later, said in the log, and serves again.
# - lua.auto_reload: editing the app file reloads it without `perigee
#   reload`; a broken save keeps the old version serving.
use v5.36;
use lib 'tests/lib';
use Test::More;
use Perigee::Test;

my $lab = Perigee::Test->new(workers => [0]);
my $app = $lab->dir . '/app.lua';

sub write_app($version, $broken = 0) {
	open(my $f, '>', $app) or die "$app: $!";
	print $f <<"EOF";
local perigee = require("perigee")
local app = perigee.app()
app:get("/hello", function(req, res) return res:send("hello $version") end)
app:get("/spin", function(req, res)
  local function spin() local x = 0 while true do x = x + 1 end end
  jit.off(spin)          -- interpreted: the interrupt reaches it
  spin()
end)
app:get("/jitspin", function(req, res)
  local x = 0
  while true do x = x + 1 end   -- compiled: it does not
end)
return app
EOF
	print $f "(\n" if $broken;
	close($f) or die "$app: $!";
}

sub get($path) {
	return $lab->ns_exec({ timeout => 15 }, 'curl', '-sS', '-m', '10',
			     '-w', '\n%{http_code}', "http://198.18.0.2:8080$path");
}

write_app('v1');
$lab->write_conf({ workers => [0], app => $app, listen => [8080],
		   lua => { cpu_limit_ms => 300, kill_after_ms => 1000,
			    auto_reload => \1, watch_ms => 100 } });
$lab->start_ok;
is(get('/hello')->{out}, "hello v1\n200", 'v1 serves');

my $mark = $lab->log_mark;
my $r = get('/spin');
like($r->{out}, qr/\n500$/, 'a handler that never yields is a 500');
like($r->{out}, qr/request id: w0-[0-9a-f]+/, 'naming the request id');
ok($lab->log_grep(qr/exceeded the CPU limit \(300 ms without yielding\)/,
		  $mark), 'the error is logged')
	or diag($lab->log);
ok($lab->log_grep(qr{/spin}, $mark)
   && $lab->log_grep(qr/traceback/, $mark), 'with the route and a traceback')
	or diag($lab->log);
is(get('/hello')->{out}, "hello v1\n200", 'the same worker serves on');
is($lab->status->{workers}[0]{restarts}, 0, 'it was not restarted');

$mark = $lab->log_mark;
$r = get('/jitspin');
unlike($r->{out}, qr/\n200$/, 'a compiled endless loop gets no answer');
ok($lab->log_grep(qr/worker 0: Lua still runs \d+ ms after the interrupt/,
		  $mark), 'the restart is logged with its reason');
ok(wait_for(sub { my $st = $lab->status;
		  $st && $st->{workers}[0]{restarts} == 1
		  && $st->{workers}[0]{state} eq 'running' }, 10),
   'the worker is restarted once and runs');
is(get('/hello')->{out}, "hello v1\n200", 'and serves');

# Development reloads.
$mark = $lab->log_mark;
sleep 1;               # a new mtime even on a coarse file system clock
write_app('v2');
ok(wait_for(sub { get('/hello')->{out} eq "hello v2\n200" }, 10),
   'an edited app is served without perigee reload');
ok($lab->log_grep(qr/the application's files changed/, $mark),
   'the reload is logged');
write_app('v3', 1);
ok(wait_for(sub { $lab->log_grep(qr/failed: .*app\.lua:\d+:/, $mark) }, 10),
   'a broken save is reported');
is(get('/hello')->{out}, "hello v2\n200", 'and v2 keeps serving');
write_app('v4');
ok(wait_for(sub { get('/hello')->{out} eq "hello v4\n200" }, 10),
   'the fixed file is picked up');

ok($lab->stop, 'perigee stop');
done_testing;
