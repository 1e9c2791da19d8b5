# The TCP stack under libFuzzer (build/fuzz/fuzz_tcp, see tests/fuzz/):
# the seed corpus and every saved crash replay cleanly, then
# PG_FUZZ_SECONDS (default 60) of fuzzing find no crash, no leaked mbuf or
# malloc, no sanitizer report. A failing input is copied to
# build/fuzz/artifacts/; replay it with build/fuzz/fuzz_tcp FILE and keep
# it under tests/fuzz/crashes/ once the bug is understood.
use v5.36;
use lib 'tests/lib';
use File::Copy qw(copy);
use File::Path qw(make_path);
use Test::More;
use Perigee::Test;

my $dir = $ENV{PERIGEE_FUZZ} // 'build/fuzz';
my $bin = "$dir/fuzz_tcp";
my $secs = $ENV{PG_FUZZ_SECONDS} // 60;
my $have = $ENV{PERIGEE_HAVE_LIBFUZZER} // (-x $bin ? 'yes' : 'no');

plan(skip_all => 'no clang with libFuzzer: ./configure did not find one; '
     . 'install the Debian package clang (scripts/install-deps does) and '
     . 'rerun ./configure') if $have ne 'yes';
plan(skip_all => 'PG_FUZZ_SECONDS=0') if $secs == 0;
ok(-x $bin, "$bin is built") or BAIL_OUT("$bin missing: run make fuzz");

my $SANITIZER = qr/ERROR: (?:AddressSanitizer|LeakSanitizer|libFuzzer)
		   |runtime\ error:|fuzz_tcp:\ BUG:|SUMMARY:/x;

# Run the fuzzer; report its verdict, and keep what it found.
sub fuzz_ok($name, $timeout, @args) {
	my $tmp = tempdir();
	my $r = run_cmd({ timeout => $timeout }, $bin, "-artifact_prefix=$tmp/",
			'-timeout=10', '-rss_limit_mb=2048', '-max_len=1024', @args);
	my $clean = $r->{rc} == 0 && !$r->{timed_out} && $r->{err} !~ $SANITIZER;
	ok($clean, $name) and return $r;
	my @found = glob "$tmp/*";
	make_path("$dir/artifacts");
	copy($_, "$dir/artifacts/") for @found;
	my @lines = split /\n/, $r->{err};
	diag(join "\n", "rc $r->{rc}" . ($r->{timed_out} ? ' (timed out)' : ''),
	     @lines > 60 ? @lines[-60 .. -1] : @lines);
	diag("input kept: $dir/artifacts/" . ($_ =~ s{.*/}{}r)) for @found;
	return $r;
}

fuzz_ok('seed corpus and saved crashes replay cleanly', 300, '-runs=0',
	'tests/fuzz/corpus/tcp', 'tests/fuzz/crashes');

my $corpus = tempdir();
my $r = fuzz_ok("$secs s of fuzzing: no crash, leak or sanitizer report",
		$secs + 120, "-max_total_time=$secs", '-print_final_stats=1',
		$corpus, 'tests/fuzz/corpus/tcp');
my ($runs) = $r->{err} =~ /stat::number_of_executed_units:\s*(\d+)/;
my ($cov) = ($r->{err} =~ /\bcov: (\d+)/g)[-1];
note(sprintf 'executed %s inputs, coverage %s', $runs // '?', $cov // '?');

done_testing();
