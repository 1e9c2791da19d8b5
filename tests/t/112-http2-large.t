# 64 MiB bodies over HTTP/2 with small flow-control windows: a streaming
# echo (uploaded and sent back at once, h2c and h2 over TLS) and a
# download read through a 16 KiB client window. The bytes are equal
# (SHA-256) and the server's memory stays bounded while they pass: the
# mbufs in use and the workers' resident memory grow by far less than a
# body, because the windows open only for what the handler consumed.
use v5.36;
use lib 'tests/lib';
use Test::More;
use Time::HiRes qw(sleep);
use Digest::SHA;
use Perigee::Test;

need_commands(qw(curl nghttp));

my $MiB = 2**20;
my $lab = Perigee::Test->new(workers => [0, 1]);
my $dir = $lab->dir;
my $app = "$dir/app.lua";
$lab->make_cert('c');
Perigee::Test::_spew($app, <<'EOF');
local app = require("perigee").app({ body_limit = 2^30 })
app:post("/echo", function(req, res)
  res:status(200)
  while true do
    local chunk = req:read(65536)
    if not chunk then break end
    res:write(chunk)
  end
  return res:finish()
end)
app:get("/big", function(req, res)
  local chunk = string.rep("0123456789abcdef", 4096)       -- 64 KiB
  res:status(200)
  for i = 1, tonumber(req.query.n) do res:write(chunk) end
  return res:finish()
end)
return app
EOF
$lab->write_conf({ app => $app, listen => [8080, { port => 8443,
	tls => { cert => "$dir/c/cert.pem", key => "$dir/c/key.pem" } }],
	http2 => { initial_window => 16384, conn_window => 65535,
		   max_body => 2**30 } });
$lab->start_ok;

# 64 MiB of a pattern that does not repeat in step with any window.
my $body = "$dir/body";
{
	open(my $f, '>:raw', $body) or die "$body: $!";
	my $block = join '', map { chr(($_ * 131 + ($_ >> 8)) % 251) } 0 .. $MiB - 1;
	print $f $block for 1 .. 64;
	close($f) or die;
}
sub sha_file($path) { -f $path ? Digest::SHA->new(256)->addfile($path, 'b')->hexdigest : '' }
my $want = sha_file($body);

# The workers' resident memory (kB) and the mbufs in use, summed.
sub footprint() {
	my $st = $lab->status;
	my $rss = 0;
	for my $w (@{ $st->{workers} }) {
		my $s = Perigee::Test::_slurp("/proc/$w->{pid}/status") // '';
		$rss += $1 if $s =~ /^VmRSS:\s+(\d+)/m;
	}
	return ($rss, total($st, 'mempool_size') - total($st, 'mempool_free'));
}

# Run a client in the background; sample the footprint until it ends.
sub transfer($name, @cmd) {
	my ($rss0, $mb0) = footprint();
	my ($rss_max, $mb_max) = ($rss0, $mb0);
	my $pid = $lab->ns_spawn(@cmd);
	for (1 .. 1200) {                    # at most 120 s
		last unless Perigee::Test::pid_alive($pid);
		my ($rss, $mb) = footprint();
		$rss_max = $rss if $rss > $rss_max;
		$mb_max = $mb if $mb > $mb_max;
		sleep(0.1);
	}
	my $res = $lab->finish($pid, undef, 10);
	note(sprintf "%s: resident memory +%d KiB, mbufs in use %d -> at most %d",
	     $name, $rss_max - $rss0, $mb0, $mb_max);
	cmp_ok($rss_max - $rss0, '<', 16 * 1024,
	       "$name: the workers' resident memory grew by under 16 MiB");
	cmp_ok(($mb_max - $mb0) * 2048, '<', 16 * $MiB,
	       "$name: under 16 MiB of mbufs held for it");
	return $res;
}

my $h = 'http://198.18.0.2:8080';
my $s = 'https://198.18.0.2:8443';
for my $t (['h2c', '--http2-prior-knowledge', "$h/echo"],
	   ['h2 over TLS', '-k', '--http2', "$s/echo"]) {
	my ($name, @a) = @$t;
	unlink "$dir/got";
	transfer("$name echo", 'curl', '-sS', '-m', '110', @a, '-H',
		 'Content-Type: application/octet-stream',
		 '--data-binary', "\@$body", '-o', "$dir/got");
	is(sha_file("$dir/got"), $want,
	   "$name: 64 MiB streamed up and echoed back, SHA-256 equal");
}

# Down through a 16 KiB stream window and a 32 KiB connection window.
my $r = transfer('16 KiB window download', 'sh', '-c', "nghttp -w 14 -W 15 "
	      . "'$h/big?n=1024' > $dir/big");
my $big = Digest::SHA->new(256);
$big->add('0123456789abcdef' x 4096) for 1 .. 1024;
is(sha_file("$dir/big"), $big->hexdigest,
   'a 64 MiB download through small client windows, SHA-256 equal');

my $st = $lab->status;
is(total($st, 'h2.err_flow_control'), 0, 'no flow-control error');
is(total($st, 'h2.aborted'), 0, 'no stream lost');
ok($lab->stop, 'perigee stop');
done_testing;
