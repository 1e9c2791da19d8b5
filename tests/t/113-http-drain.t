# Graceful stop: `perigee stop` while requests are in flight. Each of
# them (HTTP/1.1, h2c, h2 over TLS) is answered whole; HTTP/2 clients get
# GOAWAY with the last stream the server took and NO_ERROR; a connection
# opened once the stop began is refused; the workers say they drained. A
# request that outlives process.drain_ms is cut, and the stop still ends
# within stop_timeout_ms.
use v5.36;
use lib 'tests/lib';
use Test::More;
use Time::HiRes qw(time sleep);
use Perigee::Test;

need_commands(qw(curl nghttp));

my $lab = Perigee::Test->new(workers => [0, 1]);
my $dir = $lab->dir;
my $app = "$dir/app.lua";
$lab->make_cert('c');
Perigee::Test::_spew($app, <<'EOF');
local perigee = require("perigee")
local app = perigee.app()
app:get("/slow/:s", function(req, res)
  perigee.sleep(tonumber(req.params.s))
  return res:send("slept " .. req.params.s)
end)
return app
EOF

sub start($drain) {
	$lab->write_conf({ app => $app, listen => [8080, { port => 8443,
		tls => { cert => "$dir/c/cert.pem", key => "$dir/c/key.pem" } }],
		process => { drain_ms => $drain, stop_timeout_ms => 8000 } });
	$lab->start_ok;
}

my $h = 'http://198.18.0.2:8080';
my $s = 'https://198.18.0.2:8443';
start(4000);
my $mark = $lab->log_mark;
my %job = (
	h1  => $lab->ns_spawn('curl', '-sS', '-m', '10', "$h/slow/1.5"),
	h2c => $lab->ns_spawn('nghttp', '-v', "$h/slow/1.5"),
	h2  => $lab->ns_spawn('nghttp', '-v', "$s/slow/1.5"),
	# opens once the stop has begun
	late => $lab->ns_spawn('sh', '-c', 'sleep 0.8; curl -sS -m 3 '
			       . "$h/slow/0"),
);
sleep(0.4);
my $t0 = time;
ok($lab->stop, 'perigee stop with requests in flight');
my $took = time - $t0;
my %got = map { $_ => $lab->finish($job{$_}, undef, 15) } keys %job;
is($got{h1}{out}, 'slept 1.5', 'HTTP/1.1: the request in flight is answered')
	or diag($got{h1}{err});
for my $p (qw(h2c h2)) {
	my $o = $got{$p}{out};
	my ($last) = $o =~ /recv GOAWAY frame .*\n.*last_stream_id=(\d+), error_code=NO_ERROR/;
	my ($sid) = $o =~ /recv \(stream_id=(\d+)\) :status: 200/;
	ok(defined $last && defined $sid && $last == $sid,
	   "$p: GOAWAY, NO_ERROR, last stream = the one in flight") or diag($o);
	like($o, qr/slept 1\.5.*recv DATA frame <[^>]*stream_id=$sid>\s+; END_STREAM/s,
	     "$p: that stream completes with its whole body");
}
isnt($got{late}{rc}, 0, 'a connection opened during the stop is refused');
cmp_ok($took, '>=', 0.8, 'the stop waited for the requests');
cmp_ok($took, '<', 4, 'and no longer than they needed');
like(substr($lab->log, $mark), qr/worker \d+: drained in \d+ ms/,
     'the workers say they drained');

# A request longer than drain_ms is cut: the stop ends anyway.
start(500);
my $long = $lab->ns_spawn('curl', '-sS', '-m', '10', "$h/slow/5");
sleep(0.4);
$mark = $lab->log_mark;
$t0 = time;
ok($lab->stop, 'perigee stop with a request longer than drain_ms');
$took = time - $t0;
my $r = $lab->finish($long, undef, 15);
isnt($r->{rc}, 0, 'that request is cut');
cmp_ok($took, '<', 3, 'the stop did not wait for it');
like(substr($lab->log, $mark), qr/still busy after drain_ms \(500 ms\): reset/,
     'the cut is logged');

# drain_ms must leave stop_timeout_ms room.
$lab->write_conf({ app => $app, listen => [8080],
		   process => { drain_ms => 5000, stop_timeout_ms => 5000 } });
ok(!$lab->start(quiet => 1), 'drain_ms >= stop_timeout_ms is refused');
like($lab->start_err, qr/drain_ms.*must be below stop_timeout_ms/, 'saying why');
done_testing;
