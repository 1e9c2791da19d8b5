# Static files (app:static, res:sendfile) on the real server over HTTP/1.1,
# h2c, and TLS (http/1.1 and h2): bytes equal (SHA-256), ranges,
# conditional requests, HEAD, directories and their index, precompressed
# siblings, auth middleware before any file access, traversal attempts
# refused, a file replaced or truncated while it is being sent.
use v5.36;
use lib 'tests/lib';
use Test::More;
use Digest::SHA qw(sha256_hex);
use Perigee::Test;

need_commands(qw(curl gzip));

my $lab = Perigee::Test->new(workers => [0, 1]);
my $dir = $lab->dir;
my $www = "$dir/www";
my $app = "$dir/app.lua";
$lab->make_cert('cert');

sub spew($name, $data) {
	open(my $f, '>:raw', $name) or die "$name: $!";
	print $f $data;
	close($f);
}
sub slurp($name) { Perigee::Test::_slurp($name) // '' }
# Bytes that do not repeat with any short period.
sub noise($n, $seed) {
	my ($x, $s) = ($seed, '');
	while (length($s) < $n) {
		$x = ($x * 1103515245 + 12345) % 2**31;
		$s .= pack('N', $x);
	}
	return substr($s, 0, $n);
}

mkdir $www or die;
mkdir "$www/sub" or die;
mkdir "$www/bare" or die;
my %file = (
	'small.bin' => noise(100_000, 1),
	'page.html' => "<html>hello</html>\n",
	'sub/index.html' => "<p>index of sub</p>\n",
	'.secret' => "hidden\n",
	'big.bin' => noise(32 * 2**20 + 12345, 2),
	'text.txt' => ("compress me please " x 5000),
);
spew("$www/$_", $file{$_}) for keys %file;
spew("$www/bare/a&b <c>.txt", "odd name\n");
run_cmd('gzip', '-k', '-9', "$www/text.txt");
spew("$dir/outside.txt", "outside the root\n");
symlink("$dir/outside.txt", "$www/link-out") or die;
symlink("page.html", "$www/link-in") or die;

spew($app, <<"EOF");
local app = require("perigee").app()
app:use("/private", function(req, res, nxt)
  if req.headers.authorization ~= "Bearer s3cret" then
    return res:status(401):send("who are you?")
  end
  return nxt()
end)
app:static("/files", "$www", { precompressed = true, cache_control = "max-age=60",
                               types = { bin = "application/x-test" } })
app:static("/private", "$www")
app:static("/list", "$www", { listing = true })
app:get("/one", function(req, res) return res:sendfile("$www/page.html") end)
app:get("/stream", function(req, res)           -- res:write, same high-water logic
  local chunk = string.rep("0123456789abcdef", 4096)
  for i = 1, 64 do res:write(chunk) end
  return res:finish()
end)
return app
EOF
$lab->write_conf({ app => $app, listen => [8080, { port => 8443, tls => [
	{ cert => "$dir/cert/cert.pem", key => "$dir/cert/key.pem" } ] }],
	files => { cache_mb => 16, chunk_kb => 256, open_valid_ms => 200 } });
$lab->start_ok;

my $h = 'http://198.18.0.2:8080';
my $s = 'https://198.18.0.2:8443';
my @transports = (
	['h1', $h, '--http1.1'],
	['h2c', $h, '--http2-prior-knowledge'],
	['TLS h1', $s, '-k', '--http1.1'],
	['TLS h2', $s, '-k', '--http2'],
);

# curl: { code, headers (lower-case names), body }.
sub get($base, $path, @args) {
	my $r = $lab->ns_exec({ timeout => 120 }, 'curl', '-sS', '-m', '100',
			      '--path-as-is', '-D', "$dir/head", '-o',
			      "$dir/body", @args, "$base$path");
	my %hd;
	my ($code) = (slurp("$dir/head") =~ m{^HTTP/[\d.]+ (\d+)}m);
	for (split /\r?\n/, slurp("$dir/head")) {
		$hd{lc $1} = $2 if /^([\w-]+):\s*(.*)$/;
	}
	unlink "$dir/head";
	return { code => $code // 0, rc => $r->{rc}, err => $r->{err},
		 headers => \%hd, body => slurp("$dir/body") };
}

for my $t (@transports) {
	my ($name, $base, @a) = @$t;
	my $g = get($base, '/files/small.bin', @a);
	ok($g->{code} == 200 && sha256_hex($g->{body}) eq sha256_hex($file{'small.bin'}),
	   "$name: 100 kB file, SHA-256 equal") or diag("$g->{code} $g->{err}");
	is($g->{headers}{'content-type'}, 'application/x-test', "$name: type from opts.types");
	is($g->{headers}{'cache-control'}, 'max-age=60', "$name: Cache-Control");
	my $etag = $g->{headers}{etag} // '';
	my $lm = $g->{headers}{'last-modified'} // '';
	like($etag, qr/^"[0-9a-f]+-[0-9a-f]+\.[0-9a-f]+"$/, "$name: ETag");

	$g = get($base, '/files/big.bin', @a);
	ok($g->{code} == 200 && sha256_hex($g->{body}) eq sha256_hex($file{'big.bin'}),
	   "$name: 32 MiB file, SHA-256 equal") or diag("$g->{code} $g->{rc} $g->{err} "
							. length($g->{body}));

	$g = get($base, '/files/small.bin', @a, '-r', '1000-1999');
	ok($g->{code} == 206 && $g->{body} eq substr($file{'small.bin'}, 1000, 1000)
	   && $g->{headers}{'content-range'} eq 'bytes 1000-1999/100000',
	   "$name: Range 206") or diag("$g->{code} $g->{headers}{'content-range'}");
	$g = get($base, '/files/big.bin', @a, '-r', '-70000');
	ok($g->{code} == 206 && $g->{body} eq substr($file{'big.bin'}, -70000),
	   "$name: suffix Range across chunks");
	$g = get($base, '/files/small.bin', @a, '-r', '200000-');
	ok($g->{code} == 416 && $g->{headers}{'content-range'} eq 'bytes */100000',
	   "$name: unsatisfiable Range 416");
	$g = get($base, '/files/small.bin', @a, '-H', "If-None-Match: $etag");
	ok($g->{code} == 304 && $g->{body} eq '', "$name: If-None-Match 304");
	$g = get($base, '/files/small.bin', @a, '-H', "If-Modified-Since: $lm");
	is($g->{code}, 304, "$name: If-Modified-Since 304");
	$g = get($base, '/files/small.bin', @a, '-H', 'If-Match: "nope"');
	is($g->{code}, 412, "$name: If-Match 412");
	$g = get($base, '/files/small.bin', @a, '-r', '0-9', '-H', 'If-Range: "old"');
	ok($g->{code} == 200 && length($g->{body}) == 100_000,
	   "$name: If-Range that does not match: the whole file");
	$g = get($base, '/files/small.bin', @a, '-I');
	ok($g->{code} == 200 && $g->{headers}{'content-length'} == 100_000,
	   "$name: HEAD");
	$g = get($base, '/files/text.txt', @a, '-H', 'Accept-Encoding: gzip');
	ok($g->{code} == 200 && ($g->{headers}{'content-encoding'} // '') eq 'gzip'
	   && ($g->{headers}{vary} // '') =~ /Accept-Encoding/
	   && length($g->{body}) == -s "$www/text.txt.gz",
	   "$name: the .gz sibling for Accept-Encoding: gzip, with Vary");
	$g = get($base, '/files/text.txt', @a);
	ok($g->{code} == 200 && !defined $g->{headers}{'content-encoding'}
	   && $g->{body} eq $file{'text.txt'}, "$name: identity without it");
}

# res:write waits where the protocol promises on_writable too (over
# HTTP/1.1 it waited at 256 KiB for an on_writable TCP arms at 1 MiB).
for my $t ($transports[0], $transports[1], $transports[2]) {
	my ($name, $base, @a) = @$t;
	my $g = get($base, '/stream', @a);
	is(length($g->{body}), 4 * 2**20, "$name: res:write streams 4 MiB");
}

# Directories, index, redirect.
my $g = get($h, '/files/sub');
ok($g->{code} == 301 && $g->{headers}{location} eq '/files/sub/', 'a directory redirects to /');
$g = get($h, '/files/sub/');
ok($g->{code} == 200 && $g->{body} eq $file{'sub/index.html'}
   && $g->{headers}{'content-type'} =~ m{^text/html}, 'and serves its index');
is(get($h, '/files/bare/')->{code}, 403, 'no index, no listing: 403');
$g = get($h, '/list/');
ok($g->{code} == 200 && $g->{headers}{'content-type'} =~ m{^text/html}
   && $g->{body} =~ m{<a href="sub/">sub/</a>} && $g->{body} =~ m{>small\.bin<}
   && $g->{body} !~ /secret/, 'listing = true: a page of the directory, dot files left out');
$g = get($h, '/list/bare/');
ok($g->{body} =~ m{<a href="a%26b%20%3Cc%3E\.txt">a&amp;b &lt;c&gt;\.txt</a>},
   'names escaped in the page and in the links') or diag($g->{body});
is(get($h, '/list/bare/a%26b%20%3Cc%3E.txt')->{body}, "odd name\n", 'and the link works');
is(get($h, '/list/sub/')->{body}, $file{'sub/index.html'}, 'an index still wins');
is(get($h, '/one')->{body}, $file{'page.html'}, 'res:sendfile from a handler');
is(get($h, '/files/link-in')->{body}, $file{'page.html'}, 'a symlink inside the root');

# Auth before files.
is(get($h, '/private/page.html')->{code}, 401, 'middleware refuses without a token');
$g = get($h, '/private/page.html', '-H', 'Authorization: Bearer s3cret');
ok($g->{code} == 200 && $g->{body} eq $file{'page.html'}, 'and lets the token through');

# Traversal: every attempt refused.
for my $p ('/files/../app.lua', '/files/%2e%2e/app.lua', '/files/..%2fapp.lua',
	   '/files/%2e%2e%2fapp.lua', '/files/sub/../../app.lua',
	   '/files/.secret', '/files/%2esecret', '/files/link-out',
	   '/files/sub/%2e%2e/%2e%2e/outside.txt', '/files/..%5c..%5capp.lua',
	   '/files/%00page.html', '/private/../app.lua') {
	for my $t ($transports[0], $transports[3]) {
		my ($name, $base, @a) = @$t;
		my $c = get($base, $p, @a)->{code};
		ok($c == 403 || $c == 404 || $c == 400, "$name: $p refused ($c)");
	}
}

# A file replaced (rename) while it is being sent: the download that
# started gets the old bytes whole; the next one gets the new bytes.
my $pid = $lab->ns_spawn('curl', '-sS', '-m', '100', '--limit-rate', '4M',
			 '-o', "$dir/slow", "$h/files/big.bin");
sleep 1;
my $new = noise(32 * 2**20 + 12345, 3);
spew("$www/big.new", $new);
rename("$www/big.new", "$www/big.bin") or die;
my $j = $lab->finish($pid, undef, 100);
ok($j->{rc} == 0 && sha256_hex(slurp("$dir/slow")) eq sha256_hex($file{'big.bin'}),
   'replaced during a download: the old bytes, whole') or diag($j->{err});
select(undef, undef, undef, 0.3);       # the open files remembered expire
$g = get($h, '/files/big.bin');
ok(sha256_hex($g->{body}) eq sha256_hex($new), 'the next download: the new bytes');

# Truncated in place while being sent: the response is cut short, never
# completed with other bytes; the server serves on.
$pid = $lab->ns_spawn('curl', '-sS', '-m', '100', '--limit-rate', '2M',
		      '-o', "$dir/cut", "$h/files/big.bin");
sleep 1;
truncate("$www/big.bin", 1000) or die;
$j = $lab->finish($pid, undef, 100);
ok($j->{rc} != 0 && length(slurp("$dir/cut")) < length($new),
   'truncated during a download: the response is cut short') or diag("rc $j->{rc}");
select(undef, undef, undef, 0.3);
$g = get($h, '/files/big.bin');
ok($g->{code} == 200 && length($g->{body}) == 1000, 'the next download: 1000 bytes');
$g = get($s, '/files/small.bin', '-k', '--http2');
is($g->{code}, 200, 'and the server serves on');

my $st = $lab->status;
ok(total($st, 'files.misses') > 0 && total($st, 'files.hits') > 0,
   'status counts the file cache: chunks read, chunks reused');
ok(total($st, 'files.open_hits') > 0, 'and opens answered without the reader');
ok(total($st, 'files.read_errors') >= 1, 'and the read that found the file truncated');
ok(wait_for(sub { total($lab->status, 'files.busy') == 0 }, 10),
   'every chunk is released once the downloads are over');
unlike($lab->log, qr/\b(?:error|panic|SIGBUS|signal)\b/i, 'no error in the log')
	or $lab->diag_log;
$lab->stop;
done_testing;
