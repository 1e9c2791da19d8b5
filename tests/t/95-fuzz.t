# The TCP stack (build/fuzz/fuzz_tcp), the HTTP/2 server
# (build/fuzz/fuzz_h2) and TLS streams with their record path
# (build/fuzz/fuzz_tls) under libFuzzer (see tests/fuzz/): for each, the
# seed corpus and every saved crash replay cleanly, then PG_FUZZ_SECONDS
# (default 60) of fuzzing find no crash, no leaked mbuf or malloc, no
# sanitizer report. A failing input is copied to build/fuzz/artifacts/;
# replay it with build/fuzz/fuzz_<name> FILE and keep it under
# tests/fuzz/crashes/ (fuzz_tcp) or tests/fuzz/crashes/<name>/ once the
# bug is understood.
use v5.36;
use lib 'tests/lib';
use File::Copy qw(copy);
use File::Path qw(make_path);
use Test::More;
use Perigee::Test;

my $dir = $ENV{PERIGEE_FUZZ} // 'build/fuzz';
my $secs = $ENV{PG_FUZZ_SECONDS} // 60;
my $have = $ENV{PERIGEE_HAVE_LIBFUZZER} // (-x "$dir/fuzz_tcp" ? 'yes' : 'no');
# target => directories of saved inputs replayed before fuzzing
my %saved = (tcp => ['tests/fuzz/crashes'], h2 => [], tls => []);

plan(skip_all => 'no clang with libFuzzer: ./configure did not find one; '
     . 'install the Debian package clang (scripts/install-deps does) and '
     . 'rerun ./configure') if $have ne 'yes';
plan(skip_all => 'PG_FUZZ_SECONDS=0') if $secs == 0;

my $SANITIZER = qr/ERROR: (?:AddressSanitizer|LeakSanitizer|libFuzzer)
		   |runtime\ error:|fuzz_\w+:\ BUG:|SUMMARY:/x;

# Run the fuzzer; report its verdict, and keep what it found.
sub fuzz_ok($bin, $name, $timeout, @args) {
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

for my $t (sort keys %saved) {
	my $bin = "$dir/fuzz_$t";
	ok(-x $bin, "$bin is built") or BAIL_OUT("$bin missing: run make fuzz");
	fuzz_ok($bin, "fuzz_$t: seed corpus and saved crashes replay cleanly",
		300, '-runs=0', "tests/fuzz/corpus/$t", @{$saved{$t}});

	my $corpus = tempdir();
	my $r = fuzz_ok($bin, "fuzz_$t: $secs s of fuzzing: no crash, leak or "
			. 'sanitizer report', $secs + 120,
			"-max_total_time=$secs", '-print_final_stats=1',
			$corpus, "tests/fuzz/corpus/$t");
	my ($runs) = $r->{err} =~ /stat::number_of_executed_units:\s*(\d+)/;
	my ($cov) = ($r->{err} =~ /\bcov: (\d+)/g)[-1];
	note(sprintf 'fuzz_%s: executed %s inputs, coverage %s', $t,
	     $runs // '?', $cov // '?');
}

done_testing();
