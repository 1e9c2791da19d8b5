# A reload while requests run: a request that sleeps in the old version of
# the app finishes on it (its timer keeps running in the old VM), requests
# after the reload get the new version, and no connection is dropped.
use v5.36;
use lib 'tests/lib';
use Test::More;
use Perigee::Test;

my $lab = Perigee::Test->new(workers => [0, 1]);
my $app = $lab->dir . '/app.lua';

sub write_app($version) {
	open(my $f, '>', $app) or die "$app: $!";
	print $f <<"EOF";
local perigee = require("perigee")
local app = perigee.app()
app:get("/slow", function(req, res)
  perigee.log("info", "slow request begins on $version")
  perigee.sleep(1.5)
  return res:send("slow $version")
end)
app:get("/now", function(req, res) return res:send("now $version") end)
return app
EOF
	close($f) or die "$app: $!";
}

sub curl(@path) {
	return map { ('-o', '/dev/stdout', "http://198.18.0.2:8080$_") } @path;
}

write_app('v1');
$lab->write_conf({ workers => [0, 1], app => $app, listen => [8080] });
$lab->start_ok;
my $r = $lab->ns_exec({ timeout => 10 }, 'curl', '-sS', curl('/now'));
is($r->{out}, 'now v1', 'v1 serves');

# Several slow requests so that both workers hold one.
my $mark = $lab->log_mark;
my @slow = map { $lab->ns_spawn('curl', '-sS', '-m', '10', curl('/slow')) }
	1 .. 4;
ok(Perigee::Test::wait_for(sub {
	$lab->log_grep(qr/slow request begins on v1/, $mark) == 4 }, 5),
   'the four slow requests run on v1');
write_app('v2');
$r = $lab->perigee('reload');
is($r->{rc}, 0, 'reload while the slow requests sleep') or diag($r->{out});
$r = $lab->ns_exec({ timeout => 10 }, 'curl', '-sS', curl('/now'));
is($r->{out}, 'now v2', 'a request after the reload gets v2');
for my $pid (@slow) {
	my $s = $lab->finish($pid, undef, 10);
	is($s->{out}, 'slow v1', 'a request from before the reload ends on v1')
		or diag($s->{err});
}
$r = $lab->ns_exec({ timeout => 10 }, 'curl', '-sS', curl('/slow'));
is($r->{out}, 'slow v2', 'and the slow route of v2 works');
is(scalar(grep { $_->{restarts} } @{ $lab->status->{workers} }), 0,
   'no worker restarted');
ok(!$lab->log_grep(qr/\[error\]/), 'nothing logged as an error');
ok($lab->stop, 'perigee stop');
done_testing;
