# Perigee as a TCP client of Linux: worker 0 connects to a kernel echo
# server in the lab namespace, sends 256 MB of the test pattern,
# half-closes and reads the echo until EOF; both sides agree on the bytes
# and their digest. PERIGEE_TCP_MB sets the size (default 256).
use v5.36;
use lib 'tests/lib';
use Test::More;
use Perigee::Test;
use Perigee::TcpXfer;

my $MB = $ENV{PERIGEE_TCP_MB} // 256;
my $BYTES = $MB << 20;
use constant { PORT => 5001, SECS => 40 };

my $lab = Perigee::Test->new(workers => [0, 1],
	conf => Perigee::TcpXfer::conf(0, test_service => { connect => {
		addr => CLIENT_IP, port => PORT, bytes => $BYTES } }));
# The kernel server listens before Perigee starts (and connects).
my $srv = $lab->ns_spawn(tool('pg-tcpxfer'), 'serve', PORT, SECS + 10);
$lab->start_ok;

my $rep;
wait_for(sub { ($rep) = @{ $lab->testsvc_reports('client') } }, SECS, 0.2);
ok($rep, "Perigee's client finished within " . SECS . ' s')
	or diag(join "\n", $lab->log_grep(qr/testsvc/));
my $r = $lab->finish($srv, undef, 10);
is($r->{rc}, 0, 'the kernel server saw EOF and closed') or diag($r->{err});
my %k = ($r->{out} =~ /(\w+) (\S+)/g);
my $sha = pattern_sha256($BYTES);
is($k{received}, $BYTES, 'the kernel received every byte');
is($k{sha256}, $sha, "the kernel's digest is the pattern's");
is($rep->{sent}, $BYTES, 'Perigee sent every byte');
is($rep->{received}, $BYTES, 'Perigee received the whole echo');
is($rep->{sha256}, $sha, "Perigee's digest of the echo is the pattern's");
note(sprintf 'Perigee client: %d bytes each way in %s s', $BYTES,
     $rep->{seconds}) if $rep;
is(total($lab->status, 'tcp.active_opens'), 1, 'one active open');
ok($lab->stop, 'perigee stop');
done_testing;
