package Perigee::Bench;

# What the benchmark scripts (scripts/bench, scripts/bench-tcp-throughput)
# share: kernel-only namespaces joined by a veth pair, CPU time and memory
# of processes from /proc, medians, and a description of the machine.
#
# A namespace is a Perigee::Test lab that is never started and reserves no
# hugepage: it has the lab's job control (ns_exec, ns_spawn, finish) and
# its teardown (background jobs and anything else left in the namespace
# killed, the namespace deleted), also on failure and on SIGINT/SIGTERM.
#
#   my ($cli, $srv) = (netns(), netns());
#   veth_pair($cli, $srv);              # 198.18.0.1 <-> 198.18.0.2
#   my ($user, $sys) = cpu_times($pid);

use v5.36;

use Carp qw(croak);
use Exporter qw(import);
use POSIX ();
use Perigee::Test;

our @EXPORT_OK = qw(sh netns veth_pair cpu_times rss_kb median_range
		    machine need_root slurp);

# Run a command (at most $timeout seconds, default 120): its run_cmd
# result; dies with what it printed when it fails.
sub sh(@cmd) {
	my $o = ref $cmd[0] eq 'HASH' ? shift @cmd : { timeout => 120 };
	my $r = run_cmd($o, @cmd);
	croak "$r->{cmd}: exit $r->{rc}"
	      . ($r->{timed_out} ? ' (timed out)' : '') . "\n$r->{out}$r->{err}"
		if $r->{rc};
	return $r;
}

# Benchmarks are no tests: say so and stop, instead of "skipped".
sub need_root($what) {
	die "$what: needs root (network namespaces, hugepages): sudo $0\n"
		if $> != 0;
}

# A network namespace of its own with lo up and IPv6 off (see above).
sub netns() {
	return Perigee::Test->new(workers => [0], hugepages => 0);
}

# Join two namespaces with a veth pair: the first is the client,
# 198.18.0.1/24, the second the server, 198.18.0.2/24. Each end is named
# after its namespace's (unused) TAP name.
sub veth_pair($cli, $srv) {
	sh('ip', 'link', 'add', $cli->iface, 'netns', $cli->ns, 'type', 'veth',
	   'peer', 'name', $srv->iface, 'netns', $srv->ns);
	for ([$cli, CLIENT_IP], [$srv, SERVER_IP]) {
		my ($ns, $ip) = @$_;
		sh('ip', '-n', $ns->ns, 'addr', 'add', "$ip/24", 'dev', $ns->iface);
		sh('ip', '-n', $ns->ns, 'link', 'set', $ns->iface, 'up');
	}
}

my $HZ = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;

# A file's contents; $default when it cannot be read (dies without one).
sub slurp($file, $default = undef) {
	open my $fh, '<', $file or return $default // croak "$file: $!";
	local $/;
	return scalar <$fh>;
}

# User and system CPU time, in seconds, of the processes together (dies if
# one is gone: a benchmark must not go on measuring a dead server).
sub cpu_times(@pids) {
	my ($user, $sys) = (0, 0);
	for my $pid (@pids) {
		my $stat = slurp("/proc/$pid/stat", '')
			or croak "process $pid is gone";
		# Fields after the command name: state is the 3rd, utime the 14th.
		my @f = split ' ', $stat =~ s/\A.*\)\s+//sr;
		$user += $f[11];
		$sys += $f[12];
	}
	return ($user / $HZ, $sys / $HZ);
}

# Resident memory of a process, kB (dies if it is gone).
sub rss_kb($pid) {
	my $status = slurp("/proc/$pid/status", '')
		or croak "process $pid is gone";
	return $status =~ /^VmRSS:\s+(\d+)/m ? $1 : croak "no VmRSS for $pid";
}

# (median, min, max) of a list of numbers.
sub median_range(@v) {
	croak 'median of nothing' unless @v;
	@v = sort { $a <=> $b } @v;
	my $m = @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
	return ($m, $v[0], $v[-1]);
}

# One line: CPUs, CPU model, memory, kernel.
sub machine() {
	my ($model) = slurp('/proc/cpuinfo') =~ /^model name\s*:\s*(.+)$/m;
	my ($mem) = slurp('/proc/meminfo') =~ /^MemTotal:\s+(\d+)/m;
	return sprintf '%d CPUs (nproc), %s, %.0f GiB RAM, Linux %s',
		ncpu(), $model // 'unknown CPU', ($mem // 0) / 2**20,
		(POSIX::uname())[2];
}

1;
