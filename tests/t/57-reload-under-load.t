# Reload under load: wrk keeps 8 connections busy for 30 s while the app
# is reloaded every second, alternating two versions whose answers differ.
# Not one request may fail, and the answers must switch.
use v5.36;
use lib 'tests/lib';
use Test::More;
use Perigee::Test;
use Time::HiRes qw(sleep time);

use constant SECONDS => $ENV{PERIGEE_RELOAD_LOAD_SECONDS} // 30;

my $lab = Perigee::Test->new(workers => [0, 1]);
plan skip_all => 'wrk is not installed' unless grep { -x "$_/wrk" }
	split /:/, $ENV{PATH};
my $app = $lab->dir . '/app.lua';

sub write_app($version) {
	open(my $f, '>', "$app.new") or die "$app: $!";
	print $f <<"EOF";
local app = require("perigee").app()
app:get("/", function(req, res) return res:send("$version") end)
return app
EOF
	close($f) or die "$app: $!";
	rename("$app.new", $app) or die "rename: $!";  # never half a file
}

write_app('v1');
$lab->write_conf({ workers => [0, 1], app => $app, listen => [8080] });
$lab->start_ok;

my $wrk = $lab->ns_spawn('wrk', '-t', '2', '-c', '8', '-d', SECONDS . 's',
			 '--latency', 'http://198.18.0.2:8080/');
my ($reloads, $failed, %seen) = (0, 0);
my $end = time + SECONDS - 1;
while (time < $end) {
	my $v = $reloads % 2 ? 'v1' : 'v2';
	write_app($v);
	my $r = $lab->perigee('reload');
	if ($r->{rc} != 0) {
		$failed++;
		diag("reload $reloads: rc $r->{rc} out [$r->{out}] err [$r->{err}]");
	}
	$reloads++;
	my $c = $lab->ns_exec({ timeout => 5 }, 'curl', '-sS', '-m', '2',
			      'http://198.18.0.2:8080/');
	$seen{$c->{out}}++ if $c->{rc} == 0;
	sleep 0.8;
}
my $w = $lab->finish($wrk, undef, SECONDS + 20);
note($w->{out});
is($w->{rc}, 0, 'wrk ran to the end') or diag($w->{err});
my ($requests) = $w->{out} =~ /(\d+) requests in/;
cmp_ok($requests // 0, '>', 1000, 'wrk made requests');
unlike($w->{out}, qr/Socket errors/, 'no connection error, timeout or reset');
unlike($w->{out}, qr/Non-2xx or 3xx/, 'every answer was a 200');
cmp_ok($reloads, '>=', SECONDS / 2, "$reloads reloads");
is($failed, 0, 'every reload succeeded');
ok($seen{v1} && $seen{v2}, 'answers switched between v1 and v2')
	or diag(explain(\%seen));
is(scalar(grep { $_->{restarts} } @{ $lab->status->{workers} }), 0,
   'no worker restarted');
ok($lab->stop, 'perigee stop');
done_testing;
