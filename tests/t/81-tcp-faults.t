# TCP against Linux over a lossy wire: the fault filter drops 1 % and
# reorders 1 % of the frames in both directions, and every byte still
# arrives in order (digest compared). PERIGEE_TCP_MB sets the bulk size
# (default 256).
use v5.36;
use lib 'tests/lib';
use Test::More;
use Perigee::Test;
use Perigee::TcpXfer;

my $MB = $ENV{PERIGEE_TCP_MB} // 256;
my $BYTES = $MB << 20;

my $lab = Perigee::Test->new(workers => [0, 1],
	conf => Perigee::TcpXfer::conf($BYTES, fault => {
		drop => 0.01, reorder => 0.01, direction => 'both', seed => 5 }));
$lab->start_ok;
is($lab->ping(count => 20, interval => 0.02), 20, 'ping') or 1;
my $before = $lab->wait_idle;

my $lossy = ' (1 % loss, 1 % reordering)';
Perigee::TcpXfer::upload_ok($lab, $BYTES, 50, $lossy);
Perigee::TcpXfer::download_ok($lab, $BYTES, 50, $lossy);
Perigee::TcpXfer::echo_ok($lab, $BYTES / 8, 40, $lossy);

my $d = delta(totals($before), totals($lab->status));
cmp_ok($d->{'drops.fault'} // 0, '>', 0, 'the filter dropped frames');
cmp_ok($d->{fault_reorder} // 0, '>', 0, 'the filter reordered frames');
note(join ', ', map { "$_ $d->{$_}" } grep { /^tcp\.(?:retrans|fast|rto|ooo|sack|dup)/ }
     sort keys %$d);
ok($lab->stop, 'perigee stop');
done_testing;
