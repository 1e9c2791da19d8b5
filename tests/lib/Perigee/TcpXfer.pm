package Perigee::TcpXfer;

# Bulk transfers between the kernel and Perigee's TCP test service, shared
# by the TCP end-to-end tests (80-tcp.t clean, 81-tcp-faults.t over the
# fault filter). Each check is a subtest that names what moved, how fast,
# and fails on a byte count or digest that differs or a transfer that does
# not end within its time bound.
#
#   my $lab = Perigee::Test->new(conf => Perigee::TcpXfer::conf(...));
#   $lab->start_ok;
#   Perigee::TcpXfer::upload_ok($lab, $bytes, $secs);     # to discard
#   Perigee::TcpXfer::download_ok($lab, $bytes, $secs);   # from source
#   Perigee::TcpXfer::echo_ok($lab, $bytes, $secs);

use v5.36;

use Test::More ();
use Perigee::Test;

use constant { ECHO => 7, DISCARD => 9, SOURCE => 19 };

# Test-service configuration (source sends $source_bytes) merged with
# further overrides. The out-of-order budget covers the receive window, as
# it must for a sender that fills the window beyond a loss.
sub conf($source_bytes, %over) {
	return {
		dpdk => { mbufs => 16383 },
		test_service => { echo => ECHO, discard => DISCARD,
				  source => SOURCE,
				  source_bytes => $source_bytes },
		tcp => { time_wait_ms => 1000 },
		%over,
	};
}

sub _mbps($bytes, $secs) {
	return $secs > 0 ? sprintf('%.0f', $bytes * 8 / $secs / 1e6) : 'inf';
}

# The kernel sends $bytes of the pattern to discard, which logs their digest.
sub upload_ok($lab, $bytes, $secs, $what = '') {
	return Test::More::subtest("upload $bytes bytes to discard$what" => sub {
		my $mark = $lab->log_mark;
		my $r = $lab->tcpxfer($secs, 'send', SERVER_IP, DISCARD, $bytes);
		Test::More::is($r->{rc}, 0, "sent within $secs s")
			or Test::More::diag("$r->{out}$r->{err}");
		my $rep;
		wait_for(sub {
			($rep) = @{ $lab->testsvc_reports('discard', $mark) };
		}, 5);
		Test::More::ok($rep, 'discard logged its digest') or return;
		Test::More::is($rep->{received}, $bytes, 'discard received every byte');
		Test::More::is($rep->{sha256}, pattern_sha256($bytes),
			       'SHA-256 of what discard received is the pattern\'s');
		Test::More::note("upload: $bytes bytes in $r->{seconds} s, "
			. _mbps($bytes, $r->{seconds}) . ' Mbit/s') if $r->{seconds};
	});
}

# Source sends its configured bytes; the kernel digests them.
sub download_ok($lab, $bytes, $secs, $what = '') {
	return Test::More::subtest("download $bytes bytes from source$what" => sub {
		my $r = $lab->tcpxfer($secs, 'send', SERVER_IP, SOURCE, 0);
		Test::More::is($r->{rc}, 0, "received until EOF within $secs s")
			or Test::More::diag("$r->{out}$r->{err}");
		Test::More::is($r->{received}, $bytes, 'every byte arrived');
		Test::More::is($r->{sha256}, pattern_sha256($bytes),
			       'SHA-256 is the pattern\'s');
		Test::More::note("download: $bytes bytes in $r->{seconds} s, "
			. _mbps($bytes, $r->{seconds}) . ' Mbit/s') if $r->{seconds};
	});
}

# The kernel sends $bytes to echo while reading them back.
sub echo_ok($lab, $bytes, $secs, $what = '') {
	return Test::More::subtest("echo $bytes bytes both ways$what" => sub {
		my $r = $lab->tcpxfer($secs, 'send', SERVER_IP, ECHO, $bytes);
		Test::More::is($r->{rc}, 0, "echoed until EOF within $secs s")
			or Test::More::diag("$r->{out}$r->{err}");
		Test::More::is($r->{received}, $bytes, 'every byte came back');
		Test::More::is($r->{sha256}, pattern_sha256($bytes),
			       'SHA-256 of the echo is the pattern\'s');
		Test::More::note("echo: $bytes bytes each way in $r->{seconds} s, "
			. _mbps($bytes, $r->{seconds}) . ' Mbit/s each way')
			if $r->{seconds};
	});
}

1;
