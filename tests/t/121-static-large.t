# Static files, large and many: a 1 GiB file over HTTP/1.1, h2c, TLS h1 and h2
# (SHA-256 equal, a range at its end), then 1,000 concurrent downloads of
# one file with the workers' resident memory bounded by the file cache.
# Slow (several GiB through net_tap): run it on its own,
# prove -v tests/t/121-static-large.t.
use v5.36;
use lib 'tests/lib';
use Test::More;
use Perigee::Test;

need_commands(qw(curl h2load sha256sum));

my $lab = Perigee::Test->new(workers => [0, 1]);
my $dir = $lab->dir;
my $www = "$dir/www";
$lab->make_cert('cert');
mkdir $www or die;
my $r = run_cmd({ timeout => 120 }, 'sh', '-c',
	     "head -c 1073741824 /dev/urandom > $www/1g.bin "
	     . "&& head -c 1048576 /dev/urandom > $www/1m.bin");
BAIL_OUT("cannot make the files: $r->{err}") if $r->{rc} != 0;
my ($sum) = split ' ', run_cmd({ timeout => 120 }, 'sha256sum',
			       "$www/1g.bin")->{out};

open(my $f, '>', "$dir/app.lua") or die;
print $f <<"EOF";
local app = require("perigee").app()
app:static("/files", "$www")
return app
EOF
close($f);
my $cache_mb = 32;
$lab->write_conf({ app => "$dir/app.lua", listen => [8080, { port => 8443,
	tls => [ { cert => "$dir/cert/cert.pem", key => "$dir/cert/key.pem" } ] }],
	files => { cache_mb => $cache_mb } });
$lab->start_ok;

my $h = 'http://198.18.0.2:8080';
my $s = 'https://198.18.0.2:8443';

# Resident memory of the workers (kB), the largest seen.
my @workers;
sub rss() {
	my $max = 0;
	for my $pid (@workers) {
		my ($kb) = ((Perigee::Test::_slurp("/proc/$pid/status") // '')
			    =~ /^VmRSS:\s+(\d+)/m);
		$max = $kb if ($kb // 0) > $max;
	}
	return $max;
}
@workers = grep { (Perigee::Test::_slurp("/proc/$_/cmdline") // '') =~ /\0worker\0/ }
	$lab->instance_pids;
my $rss0 = rss();
diag("worker RSS at start: $rss0 kB");

for my $t (['h1', "$h", '--http1.1'], ['h2c', "$h", '--http2-prior-knowledge'],
	   ['TLS h1', "$s", '-k', '--http1.1'], ['TLS h2', "$s", '-k', '--http2']) {
	my ($name, $base, @a) = @$t;
	my $t0 = time;
	$r = $lab->ns_exec({ timeout => 600 }, 'sh', '-c',
		"curl -sS -m 580 @a $base/files/1g.bin | sha256sum");
	my ($got) = split ' ', $r->{out};
	is($got, $sum, "$name: 1 GiB, SHA-256 equal") or diag($r->{err});
	diag(sprintf("%s: 1 GiB in %d s, worker RSS %d kB", $name, time - $t0, rss()));
}
$r = $lab->ns_exec({ timeout => 60 }, 'sh', '-c',
	"curl -sS -r 1073000000-1073741823 $h/files/1g.bin | wc -c");
is($r->{out} + 0, 741824, 'a range at the end of 1 GiB');

# 1,000 concurrent downloads of one file: the cache shares its chunks,
# memory stays bounded.
my $peak = 0;
my $pid = $lab->ns_spawn('h2load', '--h1', '-n', '1000', '-c', '1000',
			 '-T', '120', "$h/files/1m.bin");
for (1 .. 1200) {
	my $now = rss();
	$peak = $now if $now > $peak;
	my $out = $lab->job_out($pid);
	last if $out =~ /requests: .* done/;
	select(undef, undef, undef, 0.1);
}
my $j = $lab->finish($pid, undef, 200);
like($j->{out}, qr/requests: 1000 total, 1000 started, 1000 done, 1000 succeeded/,
     '1,000 concurrent downloads over HTTP/1.1 all succeed') or diag($j->{out});
like($j->{out}, qr/traffic: 1000\.\d+MB|traffic: 1\.\d+GB/, 'a GB moved')
	or diag($j->{out});
diag($_) for grep { /finished in|requests:/ } split /\n/, $j->{out};
diag("worker RSS peak during 1,000 downloads: $peak kB (start $rss0 kB)");
ok($peak - $rss0 < ($cache_mb + 64) * 1024,
   "worker memory bounded: grew by less than the cache ($cache_mb MiB) + 64 MiB");

$pid = $lab->ns_spawn('h2load', '-n', '1000', '-c', '100', '-m', '10',
		      '-T', '120', "$h/files/1m.bin");
$j = $lab->finish($pid, undef, 200);
like($j->{out}, qr/1000 done, 1000 succeeded/,
     'h2c: 100 connections x 10 streams of 1 MiB all succeed') or diag($j->{out});
diag($_) for grep { /finished in/ } split /\n/, $j->{out};

ok(wait_for(sub { total($lab->status, 'files.busy') == 0 }, 20),
   'every chunk is released once the downloads are over');
unlike($lab->log, qr/\[error\]|exited on signal/, 'no error or crash in the log') or $lab->diag_log;
$lab->stop;
done_testing;
