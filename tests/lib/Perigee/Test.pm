package Perigee::Test;

# End-to-end test harness: one "lab" is a Perigee instance with its own
# network namespace, TAP interface, configuration, runtime directory, log
# and hugepage reservation. Everything a lab creates is torn down by
# teardown(), which DESTROY, END and the INT/TERM handlers call too, so a
# failing or interrupted test leaves nothing behind.
#
#   use lib 'tests/lib';
#   use Perigee::Test;
#   my $lab = Perigee::Test->new(workers => [0, 1]);   # skip_all unless root
#   $lab->start_ok;
#   is($lab->ping(count => 10), 10, 'ping');
#   my $st = $lab->status;             # decoded `perigee status --json`
#   is(total($st, 'icmp_echo'), 10);
#   $lab->stop;
#
# Addresses are fixed: the kernel (client) side is 198.18.0.1/24, Perigee
# is 198.18.0.2. Nothing else is ever configured or sent to.
#
# Environment: PERIGEE_BIN (default build/perigee), PERIGEE_TOOLS (default
# build/tests/tools), PERIGEE_TEST_KEEP=1 keeps each lab's directory
# (configuration, log) for a post-mortem.

use v5.36;

use Carp qw(croak);
use Cwd qw(abs_path);
use Exporter qw(import);
use File::Path qw(remove_tree);
use File::Temp ();
use JSON::PP ();
use POSIX qw(WNOHANG);
use Test::More ();
use Time::HiRes qw(time sleep);

our @EXPORT = qw(total totals delta wait_for run_cmd tool lua_value
		 pid_alive hugepage_files hugepages_free dpdk_runtime_dir
		 nr_hugepages tempdir ncpu toeplitz steer_owner worker_deltas
		 pattern_sha256 need_commands CLIENT_IP SERVER_IP);

use constant {
	CLIENT_IP => '198.18.0.1',
	SERVER_IP => '198.18.0.2',
	PREFIX    => 24,
};

my $NR_HUGEPAGES = '/proc/sys/vm/nr_hugepages';
my $HUGE_DIR = '/dev/hugepages';

our $BIN = abs_path($ENV{PERIGEE_BIN} // 'build/perigee')
	// ($ENV{PERIGEE_BIN} // 'build/perigee');
our $TOOLS = abs_path($ENV{PERIGEE_TOOLS} // 'build/tests/tools')
	// ($ENV{PERIGEE_TOOLS} // 'build/tests/tools');
# The server finds the Lua framework of this source tree, not an installed one.
$ENV{PERIGEE_LUA_PATH} //= join ';', map { abs_path('lua') . $_ }
	'/?.lua', '/?/init.lua';

my %LABS;            # live labs by id, for END and the signal handlers
my $SEQ = 0;
my $OWNER = $$;      # forked children never tear anything down

# --- plain helpers ----------------------------------------------------------

# A directory removed at exit (unless PERIGEE_TEST_KEEP is set).
sub tempdir() {
	return File::Temp::tempdir('perigee-test-XXXXXXXX', TMPDIR => 1,
				   CLEANUP => !$ENV{PERIGEE_TEST_KEEP});
}

# Run a command with a time limit. Options (a leading hash ref): timeout
# (seconds, default 30), stdout / stderr (file names to keep the output
# in; by default it is collected). Returns { rc, out, err, timed_out, cmd }
# where rc is the exit status, 128+N for signal N, -1 on timeout.
sub run_cmd(@cmd) {
	my %o = ref $cmd[0] eq 'HASH' ? %{ shift @cmd } : ();
	my $timeout = $o{timeout} // 30;
	my $out = $o{stdout} // File::Temp->new;
	my $err = $o{stderr} // File::Temp->new;
	my $pid = _spawn(\@cmd, "$out", "$err", $o{stdin});
	return _reap($pid, $timeout, join(' ', @cmd), "$out", "$err");
}

# Wait for child $pid at most $timeout seconds (then kill it) and return the
# run_cmd result built from its status and the files holding its output.
sub _reap($pid, $timeout, $cmd, $out, $err) {
	my $deadline = time + $timeout;
	my ($status, $timed_out);
	while (1) {
		if (waitpid($pid, WNOHANG) == $pid) { $status = $?; last }
		if (time > $deadline) {
			kill KILL => $pid;
			waitpid($pid, 0);
			$timed_out = 1;
			last;
		}
		sleep 0.01;
	}
	return {
		cmd => $cmd,
		rc => $timed_out ? -1 : _exit_code($status),
		out => _slurp($out) // '',
		err => _slurp($err) // '',
		timed_out => $timed_out,
	};
}

sub _exit_code($status) {
	return $status & 127 ? 128 + ($status & 127) : $status >> 8;
}

sub _spawn($cmd, $out, $err, $in = undef) {
	my $pid = fork // croak "fork: $!";
	return $pid if $pid;
	# The child: no END blocks, no DESTROY of the parent's labs.
	local $SIG{__DIE__};
	open STDIN, '<', $in // '/dev/null';
	open STDOUT, '>', $out;
	open STDERR, '>', $err;
	{ no warnings 'exec'; exec { $cmd->[0] } @$cmd; }
	print STDERR "exec $cmd->[0]: $!\n";
	POSIX::_exit(127);
}

sub _slurp($file) {
	open my $fh, '<', $file or return undef;
	local $/;
	return scalar <$fh>;
}

sub _spew($file, $text) {
	open my $fh, '>', $file or croak "write $file: $!";
	print $fh $text;
	close $fh or croak "write $file: $!";
}

# Call $code every $interval seconds until it returns true or $timeout
# seconds have passed. Returns its last value (false on timeout).
sub wait_for($code, $timeout = 5, $interval = 0.05) {
	my $deadline = time + $timeout;
	while (1) {
		my $v = $code->();
		return $v if $v;
		return $v if time >= $deadline;
		sleep $interval;
	}
}

# Path of a helper program built by `make tools`.
sub tool($name) {
	my $path = "$TOOLS/$name";
	croak "$path is missing: run 'make tools'" unless -x $path;
	return $path;
}

# A Perl value as Lua source: hashes become tables with sorted keys, arrays
# lists, \1 and \0 the booleans true and false, numbers stay numbers,
# everything else is a quoted string.
sub lua_value($v, $indent = '') {
	return $$v ? 'true' : 'false' if ref $v eq 'SCALAR';
	if (ref $v eq 'HASH') {
		my $in = "$indent  ";
		return "{\n" . join('', map {
			"$in$_ = " . lua_value($v->{$_}, $in) . ",\n"
		} sort keys %$v) . "$indent}";
	}
	if (ref $v eq 'ARRAY') {
		return '{ ' . join(', ', map { lua_value($_, $indent) } @$v)
			. ' }';
	}
	croak 'undefined value in a configuration' unless defined $v;
	return $v if $v =~ /\A-?(?:0|[1-9]\d*)(?:\.\d+)?\z/;
	(my $s = $v) =~ s/([\\"])/\\$1/g;
	$s =~ s/\n/\\n/g;
	return qq{"$s"};
}

sub _merge($base, $over) {
	my %m = %$base;
	for my $k (keys %$over) {
		$m{$k} = ref $m{$k} eq 'HASH' && ref $over->{$k} eq 'HASH'
			 ? _merge($m{$k}, $over->{$k}) : $over->{$k};
	}
	return \%m;
}

# --- status arithmetic ------------------------------------------------------

# Sum of a worker field over the workers of a status; "drops.NAME" reads a
# drop counter, "tcp.NAME" a TCP one, "http.NAME" an HTTP one.
sub total($st, $field) {
	my $sum = 0;
	for my $w (@{ $st->{workers} }) {
		my $v = $field =~ /\A(drops|tcp|http|h2|tls|files)\.(.+)\z/ ? $w->{$1}{$2}
			: $w->{$field};
		croak "status has no worker field '$field'" unless defined $v;
		$sum += $v;
	}
	return $sum;
}

# The counters of one worker of a status, drops as "drops.NAME", TCP's as
# "tcp.NAME", HTTP's as "http.NAME".
sub _counters($w) {
	my %c;
	for my $k (keys %$w) {
		if ($k eq 'drops' || $k eq 'tcp' || $k eq 'http') {
			$c{"$k.$_"} = $w->{$k}{$_} for keys %{ $w->{$k} };
		} elsif ($k =~ /_(?:pkts|bytes|in|out|echo|dup|reorder)\z|\Areloads\z/) {
			$c{$k} = $w->{$k};
		}
	}
	return \%c;
}

# Every counter of a status summed over workers, drops as "drops.NAME".
sub totals($st) {
	my %t;
	for my $w (@{ $st->{workers} }) {
		my $c = _counters($w);
		$t{$_} += $c->{$_} for keys %$c;
	}
	return \%t;
}

# Per worker, every counter's change between two statuses (zeros kept):
# [ { rx_pkts => ..., "drops.ip_proto" => ... }, ... ].
sub worker_deltas($before, $after) {
	return [ map {
		my $i = $_;
		my ($cb, $ca) = map { _counters($_->{workers}[$i]) } $before, $after;
		+{ map { $_ => $ca->{$_} - ($cb->{$_} // 0) } keys %$ca };
	} 0 .. $#{ $after->{workers} } ];
}

# Counters that changed between two totals(): { name => after - before }.
sub delta($before, $after) {
	my %d;
	for my $k (keys %$after) {
		my $n = $after->{$k} - ($before->{$k} // 0);
		$d{$k} = $n if $n != 0;
	}
	return \%d;
}

# --- flow steering ----------------------------------------------------------

# The well-known Microsoft RSS key, which Perigee hashes flows with.
my $RSS_KEY = pack 'H*', '6d5a56da255b0ec24167253d43a38fb0d0ca2bcb'
	. 'ae7b30b477cb2da38030f20c6a42b73bbeac01fa';
my $RETA_SIZE = 128;

# Toeplitz hash of a byte string under a key (default: the RSS key).
sub toeplitz($input, $key = $RSS_KEY) {
	my $kbits = unpack 'B*', $key;
	my $ibits = unpack 'B*', $input;
	croak 'Toeplitz input longer than the key allows'
		if length($ibits) + 32 > length $kbits;
	my $h = 0;
	for my $i (0 .. length($ibits) - 1) {
		$h ^= oct('0b' . substr($kbits, $i, 32)) if substr($ibits, $i, 1);
	}
	return $h;
}

# The worker that owns the IPv4 flow src:sport -> dst:dport among n, as
# Perigee computes it: the Toeplitz hash through a redirection table.
sub steer_owner($src, $sport, $dst, $dport, $n) {
	my $in = pack('C4C4nn', split(/\./, $src), split(/\./, $dst), $sport,
		      $dport);
	return (toeplitz($in) % $RETA_SIZE) % $n;
}

# --- processes and shared memory --------------------------------------------

# True if pid exists and is not a zombie (an exited daemon may wait a while
# for init to reap it).
sub pid_alive($pid) {
	return 0 unless $pid && kill 0, $pid;
	my $stat = _slurp("/proc/$pid/stat") // return 0;
	return $stat !~ /\)\s+[ZX]\s/;
}

sub _hugetlbfs_mounts() {
	my @dirs;
	for (split /\n/, _slurp('/proc/mounts') // '') {
		my (undef, $dir, $type) = split ' ';
		push @dirs, $dir if $type eq 'hugetlbfs';
	}
	return @dirs;
}

# Hugepage files DPDK created for the file prefix, in every hugetlbfs.
sub hugepage_files($prefix) {
	return map { glob "$_/${prefix}map_*" } _hugetlbfs_mounts();
}

# DPDK's runtime directory of a file prefix.
sub dpdk_runtime_dir($prefix) {
	return "/var/run/dpdk/$prefix";
}

sub _meminfo($key) {
	my ($v) = (_slurp('/proc/meminfo') // '') =~ /^\Q$key\E:\s+(\d+)/m;
	return $v;
}

sub hugepages_free() { return _meminfo('HugePages_Free') }

sub nr_hugepages() {
	my $v = _slurp($NR_HUGEPAGES) // return undef;
	return $v + 0;
}

# --- a lab ------------------------------------------------------------------

sub _skip_all($reason) {
	Test::More::plan(skip_all => $reason);
	exit 0;
}

# Skip the whole file unless every command is on the PATH (or in sbin).
sub need_commands(@cmds) {
	for my $cmd (@cmds) {
		_skip_all("'$cmd' is not installed (scripts/install-deps)")
			unless grep { -x "$_/$cmd" } split /:/,
				"$ENV{PATH}:/usr/sbin:/sbin";
	}
}

# Online CPUs, as sysconf(_SC_NPROCESSORS_ONLN) counts them.
sub ncpu() {
	my $n = 0;
	for (split /,/, _slurp('/sys/devices/system/cpu/online') // '') {
		$n += /\A(\d+)-(\d+)/ ? $2 - $1 + 1 : /\d/ ? 1 : 0;
	}
	$n ||= () = (_slurp('/proc/cpuinfo') // '') =~ /^processor\s*:/mg;
	return $n || 1;
}

# Perigee::Test->new(%opt). Options:
#   workers   CPUs of the workers (default [0, 1])
#   single    start with --single
#   conf      configuration overrides, merged into the defaults
#   ipv6      leave IPv6 on in the namespace (default off: it is noise)
#   hugepages pages to add to nr_hugepages (default: what the
#             configuration needs plus a margin; 0 to leave them alone)
# Skips the whole test file unless running as root with enough CPUs.
sub new($class, %opt) {
	_skip_all('e2e tests need root (network namespaces, hugepages, '
		  . 'AF_PACKET)') if $> != 0;
	need_commands(qw(ip ping));
	croak "$BIN is missing: run 'make' (or set PERIGEE_BIN)" unless -x $BIN;
	my $workers = $opt{workers} // [0, 1];
	my $ncpu = ncpu();
	my ($max) = sort { $b <=> $a } @$workers;
	_skip_all("needs " . ($max + 1) . " CPUs, this machine has $ncpu")
		if $max >= $ncpu;

	$SEQ++;
	my $tag = "pgt$$" . ($SEQ > 1 ? "x$SEQ" : '');
	my $dir = tempdir();
	my $self = bless {
		id => "$$.$SEQ",
		owner => $$,
		name => $tag,
		ns => $tag,
		iface => substr("${tag}tap", 0, 15),
		dir => $dir,
		conf => "$dir/perigee.conf.lua",
		log => "$dir/perigee.log",
		runtime => "$dir/run",
		single => $opt{single} // 0,
		spawned => {},
		hugepages_added => 0,
	}, $class;
	$self->{prefix} = "pg-$self->{name}";
	$self->{config} = _merge({
		name => $self->{name},
		workers => $workers,
		dpdk => {
			devices => ["net_tap0,iface=$self->{iface}"],
			mbufs => 8191,
		},
		interface => {
			address => SERVER_IP,
			prefix => PREFIX,
			gateway => CLIENT_IP,
			mtu => 1500,
		},
		listen => [80],
		log => { level => 'info', file => $self->{log} },
		hugepages => 256,
		runtime_dir => $self->{runtime},
	}, $opt{conf} // {});
	$self->write_conf;
	$LABS{ $self->{id} } = $self;

	my $pages = $opt{hugepages}
		// ($self->{single} ? 0 : int(($self->{config}{hugepages} + 1) / 2)
		    + 32);
	$self->_reserve_hugepages($pages) if $pages > 0;
	$self->_make_namespace(!$opt{ipv6});
	return $self;
}

# A self-signed certificate for names (scripts/make-cert) in the lab's
# directory SUB: the directory, holding cert.pem and key.pem. A file
# cannot go on without it: a failure bails out.
sub make_cert($self, $sub, @names) {
	my $dir = "$self->{dir}/$sub";
	my $r = run_cmd('scripts/make-cert', $dir, @names ? @names : 'localhost');
	Test::More::BAIL_OUT("scripts/make-cert: $r->{err}") if $r->{rc} != 0;
	return $dir;
}

sub name($self)    { $self->{name} }
sub ns($self)      { $self->{ns} }
sub iface($self)   { $self->{iface} }
sub dir($self)     { $self->{dir} }
sub conf($self)    { $self->{conf} }
sub prefix($self)  { $self->{prefix} }
sub runtime($self) { $self->{runtime} }
sub config($self)  { $self->{config} }

# Rewrite the configuration file, after merging further overrides.
# Merge $over into the configuration and write it; $raw is Lua text of
# table fields (`http = { ... }`) laid over it: a section that is a table
# on both sides is merged key by key (`log = { access = ... }` keeps
# log.file), anything else replaces.
sub write_conf($self, $over = {}, $raw = '') {
	$self->{config} = _merge($self->{config}, $over);
	my $base = lua_value($self->{config});
	_spew($self->{conf}, "-- written by Perigee::Test\n" . ($raw =~ /\S/
	      ? "local conf = $base\nfor k, v in pairs({\n$raw\n}) do\n"
		. "  if type(v) == 'table' and type(conf[k]) == 'table'\n"
		. "     and #v == 0 and next(v) ~= nil then\n"
		. "    for k2, v2 in pairs(v) do conf[k][k2] = v2 end\n"
		. "  else conf[k] = v end\nend\nreturn conf\n"
	      : "return $base\n"));
}

sub _reserve_hugepages($self, $pages) {
	unless (_hugetlbfs_mounts()) {
		mkdir $HUGE_DIR;
		my $r = run_cmd('mount', '-t', 'hugetlbfs', '-o', 'pagesize=2M',
				'nodev', $HUGE_DIR);
		croak "cannot mount hugetlbfs on $HUGE_DIR: $r->{err}"
			if $r->{rc} != 0;
		$self->{mounted_hugetlbfs} = 1;
	}
	my $nr = nr_hugepages()
		// _skip_all('this kernel offers no hugepages');
	my $free = hugepages_free();
	_spew($NR_HUGEPAGES, $nr + $pages . "\n");
	my $got = nr_hugepages() - $nr;
	$self->{hugepages_added} = $got;
	_skip_all("could reserve only $got of $pages hugepages "
		  . "($free were free)") if $got < $pages;
}

sub _release_hugepages($self) {
	my $added = $self->{hugepages_added} or return;
	my $nr = nr_hugepages() // return;
	_spew($NR_HUGEPAGES, ($nr >= $added ? $nr - $added : 0) . "\n");
	$self->{hugepages_added} = 0;
}

sub _make_namespace($self, $no_ipv6) {
	my $ns = $self->{ns};
	run_cmd('ip', 'netns', 'del', $ns)
		if -e "/run/netns/$ns";          # a leftover of a killed run
	my $r = run_cmd('ip', 'netns', 'add', $ns);
	croak "ip netns add $ns: $r->{err}" if $r->{rc} != 0;
	$self->{ns_created} = 1;
	# Interfaces created later (the TAP) inherit "default".
	my @sysctl = $no_ipv6 ? map { ("net.ipv6.conf.$_.disable_ipv6=1") }
			qw(all default) : ();
	$self->ns_run('sysctl', '-qw', @sysctl) if @sysctl;
	$self->ns_run('ip', 'link', 'set', 'lo', 'up');
}

# --- commands ---------------------------------------------------------------

# Run a command in the namespace: the full result of run_cmd.
sub ns_exec($self, @cmd) {
	my $o = ref $cmd[0] eq 'HASH' ? shift @cmd : {};
	return run_cmd($o, 'ip', 'netns', 'exec', $self->{ns}, @cmd);
}

# Run a command in the namespace: true on success (its stderr is shown
# otherwise).
sub ns_run($self, @cmd) {
	my $r = $self->ns_exec(@cmd);
	Test::More::diag("$r->{cmd}: exit $r->{rc}\n$r->{err}") if $r->{rc};
	return $r->{rc} == 0;
}

# Run a command in the namespace: its standard output (undef on failure).
sub ns_capture($self, @cmd) {
	my $r = $self->ns_exec(@cmd);
	return $r->{rc} == 0 ? $r->{out} : undef;
}

# Start a command in the namespace in the background; returns its pid.
# finish() ends it.
sub ns_spawn($self, @cmd) {
	my $n = ++$self->{jobs};
	my ($out, $err) = map { "$self->{dir}/bg$n.$_" } qw(out err);
	my $pid = _spawn(['ip', 'netns', 'exec', $self->{ns}, @cmd], $out,
			 $err);
	$self->{spawned}{$pid} = { out => $out, err => $err,
				   cmd => join(' ', @cmd) };
	return $pid;
}

# Signal a background command (undef: let it end by itself), wait for it
# at most $timeout seconds (then kill it). Returns the run_cmd-like result.
sub finish($self, $pid, $signal = 'INT', $timeout = 10) {
	my $job = delete $self->{spawned}{$pid} or croak "not our job: $pid";
	kill $signal, $pid if defined $signal;
	return _reap($pid, $timeout, $job->{cmd}, $job->{out}, $job->{err});
}

# What a background command has printed on its standard output so far.
sub job_out($self, $pid) {
	my $job = $self->{spawned}{$pid} or croak "not our job: $pid";
	return _slurp($job->{out}) // '';
}

# Run the perigee CLI with this lab's configuration (outside the namespace:
# the control socket is a file). Returns the run_cmd result.
sub perigee($self, @args) {
	my $o = ref $args[0] eq 'HASH' ? shift @args : {};
	return run_cmd($o, $BIN, @args, '-c', $self->{conf});
}

# `perigee start` in the namespace, then the kernel side of the TAP gets
# 198.18.0.1/24. Options: single (default: the lab's), quiet (a failure is
# expected: do not show the log). Returns true when the server came up; on
# failure shows why. start_err() has what start printed on stderr.
sub start($self, %o) {
	my $single = $o{single} // $self->{single};
	my $t0 = time;
	my $err = "$self->{dir}/start.stderr";
	unlink $err;
	my $r = $self->ns_exec({ timeout => 60, stderr => $err },
			       $BIN, 'start', '-c', $self->{conf},
			       $single ? '--single' : ());
	$self->{start_seconds} = time - $t0;
	$self->{started} = 1;       # even a failed start may leave things
	delete $self->{mac};        # the TAP gets a new MAC on every start
	if ($r->{rc} != 0) {
		return 0 if $o{quiet};
		Test::More::diag("perigee start: exit $r->{rc}"
				 . ($r->{timed_out} ? ' (timed out)' : '')
				 . "\n$r->{err}");
		$self->diag_log;
		return 0;
	}
	# (another device than the TAP: its peer is not the kernel's)
	my $if = $self->{iface};
	my $tap = $self->{config}{dpdk}{devices}[0] =~ /\Anet_tap/;
	my $up = !$tap
		 || $self->ns_run('ip', 'addr', 'replace',
				  CLIENT_IP . '/' . PREFIX, 'dev', $if)
		 && $self->ns_run('ip', 'link', 'set', $if, 'up');
	my $st = $self->status;
	unless ($up && $st) {
		Test::More::diag('the server started but its interface or '
				 . 'status is not usable');
		$self->diag_log;
		return 0;
	}
	return 1;
}

# start() as a test; a test file cannot go on without its server, so a
# failure ends it.
sub start_ok($self, $name = 'perigee starts', %o) {
	return 1 if Test::More::ok($self->start(%o), $name);
	Test::More::done_testing();
	exit 1;
}

# `perigee stop`: true when it answered "stopped".
sub stop($self) {
	my $r = $self->perigee({ timeout => 30 }, 'stop');
	my $ok = $r->{rc} == 0 && $r->{out} =~ /^stopped$/m;
	unless ($ok) {
		Test::More::diag("perigee stop: exit $r->{rc}\n$r->{out}$r->{err}");
		$self->diag_log;
	}
	return $ok;
}

# Decoded `perigee status --json`, undef if the server does not answer.
sub status($self) {
	my $r = $self->perigee({ timeout => 10 }, 'status', '--json');
	return undef if $r->{rc} != 0;
	my $st = eval { JSON::PP::decode_json($r->{out}) };
	unless ($st) {
		Test::More::diag("status is not JSON: $@\n$r->{out}");
		return undef;
	}
	return $st;
}

# The primary's pid from the pid file (undef if there is none).
sub pidfile_pid($self) {
	my $pid = _slurp("$self->{runtime}/perigee.pid") // return undef;
	return $pid =~ /(\d+)/ ? $1 : undef;
}

# ping 198.18.0.2 from the namespace. Options: count (10), interval (0.01),
# size, deadline (seconds, default from count and interval), flood.
# Returns the number of replies; last_ping() has the output.
sub ping($self, %o) {
	my $count = $o{count} // 10;
	my $interval = $o{interval} // 0.01;
	my $deadline = $o{deadline} // int($count * $interval * 2) + 5;
	my @cmd = ('ping', '-q', '-n', '-c', $count, '-w', $deadline,
		   $o{flood} ? '-f' : ('-i', $interval),
		   defined $o{size} ? ('-s', $o{size}) : (), SERVER_IP);
	my $r = $self->ns_exec({ timeout => $deadline + 5 }, @cmd);
	$self->{last_ping} = "$r->{cmd}\n$r->{out}$r->{err}";
	return ping_received($r->{out});
}

sub last_ping($self) { $self->{last_ping} // '' }

# What the last `perigee start` printed on stderr (the daemon keeps
# writing DPDK's early messages there).
sub start_err($self) { _slurp("$self->{dir}/start.stderr") // '' }

# Replies counted in ping's summary (0 if there is none).
sub ping_received($out) {
	return $out =~ /(\d+) packets transmitted, (\d+) (?:packets )?received/
		? $2 : 0;
}

# The pg-rawframe command line sending COUNT frames of KIND to Perigee's
# MAC on the TAP: rawframe_cmd([-g => USEC,] KIND, COUNT, [SPORT]), for
# ns_spawn.
sub rawframe_cmd($self, @args) {
	my @opt = @args && $args[0] eq '-g' ? splice(@args, 0, 2) : ();
	my ($kind, $count, @more) = @args;
	my $mac = $self->{mac} //= ($self->status // {})->{mac}
		// croak 'the server does not answer: no MAC';
	return (tool('pg-rawframe'), @opt, $self->{iface}, $mac, $kind,
		$count // 1, @more);
}

# Run pg-rawframe in the namespace (arguments as rawframe_cmd); the
# run_cmd result.
sub rawframe($self, @args) {
	return $self->ns_exec({ timeout => 60 }, $self->rawframe_cmd(@args));
}

# The kernel's neighbour entry for 198.18.0.2 in the namespace: a MAC
# (lower case) or undef.
sub neigh_mac($self) {
	my $out = $self->ns_capture('ip', 'neigh', 'show', SERVER_IP,
				    'dev', $self->{iface}) // return undef;
	return $out =~ /lladdr\s+([0-9a-f:]{17})/i ? lc $1 : undef;
}

# pg-tcpxfer in the namespace (see tests/tools/pg-tcpxfer.c): tcpxfer(
# SECONDS, COMMAND, ARGS...) bounds it to SECONDS and returns the run_cmd
# result with the pairs of its output line added ("sent N received M sha256
# HEX seconds S" gives sent, received, sha256, seconds).
sub tcpxfer($self, $secs, $cmd, @args) {
	my $r = $self->ns_exec({ timeout => $secs + 10 }, tool('pg-tcpxfer'),
			       $cmd, @args, $secs);
	my %kv = ($r->{out} =~ /(\w+) (\S+)/g);
	return { %kv, %$r };
}

# The SHA-256 of the first $bytes bytes of the test pattern (hex).
my %PATTERN_SHA;
sub pattern_sha256($bytes) {
	return $PATTERN_SHA{$bytes} //= do {
		my $r = run_cmd(tool('pg-tcpxfer'), 'pattern', $bytes);
		croak "pg-tcpxfer pattern: $r->{err}" if $r->{rc};
		chomp(my $h = $r->{out});
		$h;
	};
}

# The test service's log lines of a kind (discard, client) since a
# log_mark(), parsed: [{ peer, sent, received, sha256, seconds }, ...].
sub testsvc_reports($self, $kind, $mark = 0) {
	return [ map {
		/testsvc\ \Q$kind\E\ (\S+):(?:\ sent\ (\d+)\ bytes,)?
		 \ received\ (\d+)\ bytes\ sha256\ ([0-9a-f]+)\ in\ ([\d.]+)/x
		? { peer => $1, sent => $2, received => $3, sha256 => $4,
		    seconds => $5 } : ()
	} $self->log_grep(qr/testsvc \Q$kind\E /, $mark) ];
}

# Status, once every worker is running (undef after $timeout seconds).
sub wait_running($self, $timeout = 5) {
	return wait_for(sub {
		my $st = $self->status or return;
		my @w = @{ $st->{workers} };
		return (@w && !grep { $_->{state} ne 'running' } @w) ? $st : undef;
	}, $timeout);
}

# Status once worker $id runs again under a pid other than $old_pid (undef
# after $timeout seconds).
sub wait_restarted($self, $id, $old_pid, $timeout = 5) {
	return wait_for(sub {
		my $st = $self->status or return;
		my $w = $st->{workers}[$id];
		return $w->{state} eq 'running' && $w->{pid}
			&& $w->{pid} != $old_pid ? $st : undef;
	}, $timeout, 0.02);
}

# Status once the counters stop moving (no frame for $quiet seconds).
sub wait_idle($self, $quiet = 0.3, $timeout = 10) {
	my ($last, $since) = ('', time);
	return wait_for(sub {
		my $st = $self->status or return;
		my $t = totals($st);
		my $sig = join ',', map { $t->{$_} } qw(rx_pkts tx_pkts steer_in);
		($last, $since) = ($sig, time) if $sig ne $last;
		return time - $since >= $quiet ? $st : undef;
	}, $timeout, 0.05);
}

# Processes of this instance, whatever state it is in: the primary (pid
# file, or the command line naming our configuration) and the workers
# (their EAL file prefix).
sub instance_pids($self) {
	my @pids;
	opendir my $dh, '/proc' or return;
	for my $pid (grep { /\A\d+\z/ } readdir $dh) {
		next if $pid == $$;
		my $cmd = _slurp("/proc/$pid/cmdline") // next;
		my @argv = split /\0/, $cmd;
		next unless @argv && $argv[0] =~ m{(?:\A|/)perigee\z};
		push @pids, $pid
			if grep { $_ eq $self->{conf}
				  || $_ eq "--file-prefix=$self->{prefix}" } @argv;
	}
	closedir $dh;
	return grep { pid_alive($_) } @pids;
}

# A subtest, right after the server stopped: nothing of the instance is
# left. Options: pids (that must be gone), hugepages_free (the value
# HugePages_Free must return to).
sub clean_ok($self, $what, %o) {
	my @pids = @{ $o{pids} // [] };
	return Test::More::subtest("$what: nothing left behind" => sub {
		# What the primary removes before it answers or exits.
		my $dpdk = dpdk_runtime_dir($self->{prefix});
		Test::More::ok(!-e $dpdk, "no $dpdk");
		Test::More::is_deeply([hugepage_files($self->{prefix})], [],
				      "no $self->{prefix}map_* hugepage file");
		Test::More::ok(!-e $self->{runtime}, 'runtime_dir removed');
		my $t0 = time;
		my $gone = wait_for(sub { !grep { pid_alive($_) } @pids }, 5, 0.01);
		Test::More::ok($gone, "primary and workers exited (@pids)");
		Test::More::diag(sprintf 'the last process exited %.3f s later',
				 time - $t0) if time - $t0 > 0.05;
		Test::More::is_deeply([$self->instance_pids], [],
				      'no process of the instance');
		my $link = $self->ns_exec('ip', 'link', 'show', $self->{iface});
		Test::More::isnt($link->{rc}, 0, 'the TAP interface is gone');
		if (defined(my $free = $o{hugepages_free})) {
			wait_for(sub { hugepages_free() == $free }, 3);
			Test::More::is(hugepages_free(), $free,
				       'HugePages_Free back to its value before start');
		}
	});
}

# The log so far.
sub log($self) { _slurp($self->{log}) // '' }

# Log lines matching a pattern (since a log_mark()).
sub log_grep($self, $re, $mark = 0) {
	return grep { /$re/ } split /\n/, substr($self->log, $mark);
}

# The current end of the log, for log_grep.
sub log_mark($self) { length $self->log }

# Show the end of the log (and of start's stderr) as diagnostics.
sub diag_log($self, $lines = 40) {
	for my $f ($self->{log}, "$self->{dir}/start.stderr") {
		my @l = split /\n/, _slurp($f) // next;
		next unless @l;
		splice @l, 0, @l - $lines if @l > $lines;
		Test::More::diag("--- last lines of $f:\n" . join("\n", @l));
	}
}

# Tear everything down: background jobs, the server (stop, then SIGKILL of
# what is left), the namespace with its TAP, DPDK's files, hugepages, the
# directory. Idempotent; does nothing in a forked child.
sub teardown($self) {
	return if $self->{torn_down} || $$ != $self->{owner};
	$self->{torn_down} = 1;
	delete $LABS{ $self->{id} };
	local ($?, $!, $@);

	$self->finish($_, 'KILL', 2) for keys %{ $self->{spawned} };
	if ($self->{started}) {
		$self->perigee({ timeout => 15 }, 'stop')
			if $self->instance_pids;
		for (1 .. 2) {
			my @left = $self->instance_pids or last;
			kill KILL => @left;
			wait_for(sub { !grep { pid_alive($_) } @left }, 5);
		}
	}
	if ($self->{ns_created}) {
		# What still runs in our own namespace was started by this test.
		my $pids = run_cmd({ timeout => 5 }, 'ip', 'netns', 'pids',
				   $self->{ns})->{out};
		my @left = grep { /\A\d+\z/ } split /\s+/, $pids;
		kill KILL => @left if @left;
		wait_for(sub { !grep { pid_alive($_) } @left }, 5) if @left;
		run_cmd({ timeout => 10 }, 'ip', 'netns', 'del', $self->{ns});
	}
	if ($self->{started}) {
		unlink hugepage_files($self->{prefix});
		remove_tree(dpdk_runtime_dir($self->{prefix}));
	}
	$self->_release_hugepages;
	if ($self->{mounted_hugetlbfs}) {
		run_cmd({ timeout => 10 }, 'umount', $HUGE_DIR);
	}
	if ($ENV{PERIGEE_TEST_KEEP}) {
		Test::More::diag("kept $self->{dir}");
	} else {
		remove_tree($self->{dir});
	}
}

sub DESTROY($self) {
	$self->teardown if $$ == ($self->{owner} // 0);
}

# --- global clean-up --------------------------------------------------------

sub _teardown_all($why = undef) {
	return if $$ != $OWNER;
	for my $lab (values %LABS) {
		$lab->diag_log if $why;
		$lab->teardown;
	}
}

END {
	my $failed = $$ == $OWNER && %LABS
		     && !Test::More->builder->is_passing;
	_teardown_all($failed ? 'failed' : undef);
}

for my $sig (qw(INT TERM HUP)) {
	$SIG{$sig} = sub {
		Test::More::diag("caught SIG$sig: tearing down");
		_teardown_all();
		exit 128 + ($sig eq 'INT' ? 2 : $sig eq 'TERM' ? 15 : 1);
	};
}

# A test that dies outside an eval: show the logs of the live labs (END
# then tears them down).
$SIG{__DIE__} = sub {
	return if !defined $^S || $^S || $$ != $OWNER;
	$_->diag_log for values %LABS;
};

1;
