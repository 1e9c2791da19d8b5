# HTTP/2 and TLS on the real server, with real clients over net_tap:
# h2c by prior knowledge on the plain port; TLS 1.2 and 1.3 with ALPN h2
# and http/1.1 on the TLS port; bodies both ways (SHA-256 equal); SNI
# between two certificates; session resumption; h2load with many streams;
# nghttp; the counters in status. Every answer comes from the same Lua app.
use v5.36;
use lib 'tests/lib';
use Test::More;
use Digest::SHA qw(sha256_hex);
use Perigee::Test;

need_commands(qw(curl nghttp h2load openssl));

my $lab = Perigee::Test->new(workers => [0, 1]);
my $dir = $lab->dir;
my $app = "$dir/app.lua";
for my $n (['a', 'localhost', 'perigee.test'], ['b', 'other.test']) {
	my ($sub, @names) = @$n;
	$lab->make_cert($sub, @names);
}
open(my $f, '>', $app) or die "$app: $!";
print $f <<'EOF';
local app = require("perigee").app()
app:get("/hello/:name", function(req, res)
  return res:json({ hello = req.params.name, version = req.http_version })
end)
app:post("/echo", function(req, res)
  return res:send(req:body(64 * 2^20))
end)
app:get("/big", function(req, res)
  local chunk = string.rep("0123456789abcdef", 4096)       -- 64 KiB
  res:status(200)
  for i = 1, tonumber(req.query.n or 16) do res:write(chunk) end
  return res:finish()
end)
return app
EOF
close($f);
$lab->write_conf({ app => $app, listen => [8080, { port => 8443, tls => [
	{ cert => "$dir/a/cert.pem", key => "$dir/a/key.pem" },
	{ cert => "$dir/b/cert.pem", key => "$dir/b/key.pem" } ] }],
	http => { max_body => 64 * 2**20 }, http2 => { max_body => 64 * 2**20 } });
$lab->start_ok;

my $h = 'http://198.18.0.2:8080';
my $s = 'https://198.18.0.2:8443';
sub curl(@args) {
	return $lab->ns_exec({ timeout => 60 }, 'curl', '-sS', '-m', '50',
			     '-w', '\n%{http_version}', @args);
}
my $r = curl('--http2-prior-knowledge', "$h/hello/h2c");
like($r->{out}, qr/\A(?=.*"hello":"h2c")(?=.*"version":"2").*\n2\z/s, 'h2c by prior knowledge')
	or diag($r->{err});
$r = curl('--http1.1', "$h/hello/h1");
like($r->{out}, qr/\A(?=.*"hello":"h1")(?=.*"version":"1\.1").*\n1\.1\z/s, 'HTTP/1.1 on the same port');
# Upgrade: h2c (RFC 7540 3.2): curl --http2 on http:// asks for it.
my $st0 = $lab->status;
$r = curl('--http2', "$h/hello/upgrade");
like($r->{out}, qr/\A(?=.*"hello":"upgrade")(?=.*"version":"2").*\n2\z/s,
     'Upgrade: h2c: the request is answered over HTTP/2 as stream 1')
	or diag($r->{err});
my @ask = ('-H', 'Connection: Upgrade, HTTP2-Settings', '-H', 'Upgrade: h2c');
$r = curl('--http1.1', @ask, '-H', 'HTTP2-Settings: AAMAAABkAARAAAAA',
	  '--data-binary', 'with a body', "$h/echo");
is($r->{out}, "with a body\n1.1", 'a request with a body stays HTTP/1.1');
$r = curl('--http1.1', @ask, '-H', 'HTTP2-Settings: not*base64url',
	  "$h/hello/bad");
like($r->{out}, qr/"version":"1\.1".*\n1\.1\z/s,
     'a malformed HTTP2-Settings: answered over HTTP/1.1');
$r = curl('--http1.1', @ask, "$h/hello/none");
like($r->{out}, qr/"version":"1\.1".*\n1\.1\z/s,
     'no HTTP2-Settings: answered over HTTP/1.1');
my $st1 = $lab->status;
is(total($st1, 'http.h2c_upgrade') - total($st0, 'http.h2c_upgrade'), 1,
   'one upgrade counted');
is(total($st1, 'http.h2c_upgrade_refused')
   - total($st0, 'http.h2c_upgrade_refused'), 3, 'three refusals counted');

$r = curl('-k', '--http2', "$s/hello/tls");
like($r->{out}, qr/\A(?=.*"hello":"tls")(?=.*"version":"2").*\n2\z/s, 'h2 over TLS by ALPN')
	or diag($r->{err});
$r = curl('-k', '--http1.1', "$s/hello/tls1");
like($r->{out}, qr/\A(?=.*"hello":"tls1")(?=.*"version":"1\.1").*\n1\.1\z/s,
     'http/1.1 over TLS by ALPN');
$r = curl('-k', '--tlsv1.2', '--tls-max', '1.2', '--http2', "$s/hello/t12");
like($r->{out}, qr/\A(?=.*"hello":"t12")(?=.*"version":"2").*\n2\z/s, 'TLS 1.2 too');

# Bodies both ways.
my $body = join '', map { chr(($_ * 7) % 256) } 1 .. 3 * 2**20;
open(my $b, '>:raw', "$dir/body") or die;
print $b $body;
close($b);
for my $t (['h2c', '--http2-prior-knowledge', "$h/echo"],
	   ['h2', '-k', '--http2', "$s/echo"],
	   ['TLS http/1.1', '-k', '--http1.1', "$s/echo"]) {
	my ($name, @a) = @$t;
	$r = $lab->ns_exec({ timeout => 60 }, 'curl', '-sS', '-m', '50', @a,
			   '--data-binary', "\@$dir/body", '-o', "$dir/got");
	my $got = Perigee::Test::_slurp("$dir/got") // '';
	ok($r->{rc} == 0 && sha256_hex($got) eq sha256_hex($body),
	   "$name: 3 MiB posted and echoed, SHA-256 equal")
		or diag($r->{err} . ' got ' . length($got));
}
$r = $lab->ns_exec({ timeout => 60 }, 'curl', '-sS', '-m', '50', '-k',
		   '--http2', "$s/big?n=512", '-o', "$dir/big");
my $big = Perigee::Test::_slurp("$dir/big") // '';
is(sha256_hex($big), sha256_hex('0123456789abcdef' x (4096 * 512)),
   'h2 over TLS: 32 MiB streamed down, SHA-256 equal');

# SNI picks the certificate.
for my $t (['localhost', 'CN ?= ?localhost'], ['other.test', 'CN ?= ?other.test']) {
	my ($name, $re) = @$t;
	$r = $lab->ns_exec({ timeout => 20, stdin => '/dev/null' }, 'openssl', 's_client',
		'-connect', '198.18.0.2:8443', '-servername', $name,
		'-alpn', 'h2');
	like($r->{out}, qr/subject=.*$re/, "SNI $name gets its certificate");
	like($r->{out}, qr/ALPN protocol: h2/, "ALPN h2 ($name)");
}

# Resumption with a ticket.
# (TLS 1.3 tickets come after the handshake: keep the first one open a
# moment so that it receives its ticket before it saves the session.)
$r = $lab->ns_exec({ timeout => 20 }, 'sh', '-c', 'sleep 1 | openssl '
	. 's_client -connect 198.18.0.2:8443 -servername localhost -tls1_3 '
	. "-sess_out $dir/sess");
$r = $lab->ns_exec({ timeout => 20 }, 'sh', '-c', 'sleep 1 | openssl '
	. 's_client -connect 198.18.0.2:8443 -servername localhost -tls1_3 '
	. "-sess_in $dir/sess");
like($r->{out}, qr/^Reused, TLSv1\.3/m, 'a second connection resumes');

# Many streams, many connections.
$r = $lab->ns_exec({ timeout => 60 }, 'h2load', '-n', '2000', '-c', '10',
		   '-m', '10', "$h/hello/load");
like($r->{out}, qr/requests: 2000 total, 2000 started, 2000 done, 2000 succeeded/,
     'h2load h2c: 2000 requests, 10 connections x 10 streams, all succeed')
	or diag($r->{out});
$r = $lab->ns_exec({ timeout => 60 }, 'h2load', '-n', '1000', '-c', '4',
		   '-m', '10', "$s/hello/load");
like($r->{out}, qr/1000 done, 1000 succeeded/, 'h2load over TLS too')
	or diag($r->{out});
$r = $lab->ns_exec({ timeout => 20 }, 'nghttp', '-nv', "$s/hello/nghttp");
like($r->{out}, qr/recv SETTINGS frame/, 'nghttp: the server SETTINGS');
like($r->{out}, qr/:status: 200/, 'nghttp: 200');

my $st = $lab->status;
ok(total($st, 'h2.requests') >= 3000, 'status counts HTTP/2 requests');
ok(total($st, 'tls.handshakes') >= 8, 'and TLS handshakes');
ok(total($st, 'tls.resumed') >= 1, 'and a resumed one');
ok(total($st, 'tls.alpn_h2') >= 1 && total($st, 'tls.alpn_http1') >= 1,
   'ALPN choices counted');

# Garbage on the TLS port is a counted, clean failure; serving goes on.
$r = $lab->ns_exec({ timeout => 20 }, 'curl', '-sS', '-m', '5',
		   'http://198.18.0.2:8443/hello/x');
ok(wait_for(sub { total($lab->status, 'tls.fail_garbage') >= 1 }, 5),
   'plain HTTP on the TLS port: a counted handshake failure');
$r = curl('-k', '--http2', "$s/hello/after");
like($r->{out}, qr/\A(?=.*"hello":"after")(?=.*"version":"2").*\n2\z/s, 'and TLS serves on');

ok($lab->stop, 'perigee stop');
done_testing;
