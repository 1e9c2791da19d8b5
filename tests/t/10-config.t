# Configuration validation: `perigee check` refuses a bad configuration
# with the file, the key and the reason, and accepts good ones. No network,
# no root needed.
use v5.36;
use lib 'tests/lib';
use Test::More;
use Perigee::Test;

my $dir = tempdir();
my $files = 0;

# Write Lua source (or a Perl structure, turned into Lua) and check it.
sub check_conf($conf) {
	my $file = sprintf '%s/conf%02d.lua', $dir, ++$files;
	open my $fh, '>', $file or die "$file: $!";
	print $fh ref $conf ? 'return ' . lua_value($conf) . "\n" : $conf;
	close $fh or die "$file: $!";
	return ($file, run_cmd({ timeout => 10 }, $Perigee::Test::BIN, 'check',
			       '-c', $file));
}

# The smallest valid configuration, and one that sets every key.
my %minimal = (interface => { address => SERVER_IP });
my %full = (
	name => 'cfg-test_1',
	workers => [0],
	dpdk => {
		devices => ['net_tap0,iface=pgcfg0'],
		eal_args => ['--log-level=lib.eal:notice'],
		mbufs => 4095, rx_desc => 256, tx_desc => 256,
	},
	interface => { address => SERVER_IP, prefix => 24,
		       gateway => CLIENT_IP, mtu => 9000 },
	listen => [80, 443],
	log => { level => 'debug', file => "$dir/perigee.log",
		 access => "$dir/access.log", access_buffer => 16384 },
	hugepages => 64,
	runtime_dir => "$dir/run",
	process => { restart_delay_ms => 50, restart_delay_max_ms => 1000,
		     stop_timeout_ms => 2000, idle_sleep_max_us => 500 },
	fault => { drop => 0.1, duplicate => 0.05, reorder => 0.5, seed => 7,
		   direction => 'both' },
	tcp => { max_conns => 4096, rcv_wnd => 262144, snd_hiwat => 131072,
		 snd_lowat => 32768, time_wait_ms => 1000, fin_wait2_ms => 5000,
		 syn_backlog => 64, syncookies => \1, cc => 'newreno',
		 sack => \1, timestamps => \0,
		 window_scaling => \1, keepalive_idle_ms => 60000,
		 keepalive_intvl_ms => 5000, keepalive_probes => 4,
		 rto_min_ms => 50, rto_max_ms => 30000, rto_initial_ms => 500,
		 delack_ms => 10, ooo_max => 1048576, ooo_max_total => 8388608,
		 syn_retries => 3, retries => 8 },
	http => { max_conns => 1000, max_request_line => 4096,
		  max_header_bytes => 8192, max_headers => 50,
		  arena_size => 16384, max_body => 10485760,
		  body_buffer => 65536, header_timeout_ms => 5000,
		  body_timeout_ms => 5000, keepalive_timeout_ms => 30000,
		  linger_ms => 1000, max_requests => 100,
		  auto_continue => \1, date => \0 },
	test_service => { echo => 7, discard => 9, source => 19,
			  source_bytes => 1048576,
			  connect => { addr => CLIENT_IP, port => 5001,
				       bytes => 4096 } },
);
my $ncpu = ncpu();

# [ what, configuration (text or merged over %minimal), key, reason ]
my @bad = (
	['unknown top-level key', { bogus => 1 }, 'bogus', qr/unknown key/],
	['unknown key in a section', { interface => { address => SERVER_IP,
		adress => SERVER_IP } }, 'interface.adress', qr/unknown key/],
	['address missing', { interface => {} }, 'interface.address',
		qr/is required/],
	['address not IPv4', { interface => { address => '198.18.0.x' } },
		'interface.address', qr/'198\.18\.0\.x' is not an IPv4 address/],
	['gateway outside the prefix', { interface => { address => SERVER_IP,
		prefix => 24, gateway => '198.18.1.1' } }, 'interface.gateway',
		qr/is not inside address\/prefix/],
	['prefix out of range', { interface => { address => SERVER_IP,
		prefix => 33 } }, 'interface.prefix',
		qr/must be a whole number from 1 to 32/],
	['mtu too small', { interface => { address => SERVER_IP, mtu => 100 } },
		'interface.mtu', qr/must be a whole number from 576 to 9000/],
	['workers not a list', { workers => 3 }, 'workers',
		qr/must be a list/],
	['workers empty', { workers => [] }, 'workers',
		qr/needs at least one CPU/],
	['worker CPU out of range', { workers => [0, $ncpu] }, 'workers',
		qr/entry 2 must be a whole number from 0 to @{[$ncpu - 1]}\z/],
	['worker CPU not whole', { workers => [0.5] }, 'workers',
		qr/entry 1 must be a whole number/],
	['worker CPU repeated', { workers => [0, 0] }, 'workers',
		qr/entry 2 repeats 0/],
	['mbufs below the minimum', { dpdk => { mbufs => 100 } },
		'dpdk.mbufs', qr/must be a whole number from 1023 to/],
	['mbufs below the descriptors', { dpdk => { mbufs => 1500 } },
		'dpdk.mbufs', qr/must exceed rx_desc \+ tx_desc \+ 1024 \(2048\)/],
	['no device', { dpdk => { devices => [] } }, 'dpdk.devices',
		qr/needs at least one device/],
	['device not a string', { dpdk => { devices => [42] } },
		'dpdk.devices', qr/entry 1 must be a string/],
	['section not a table', { dpdk => 'net_tap0' }, 'dpdk',
		qr/must be a table/],
	['name with a space', { name => 'my server' }, 'name',
		qr/may hold only letters, digits/],
	['listen port 0', { listen => [0] }, 'listen',
		qr/entry 1 must be a whole number from 1 to 65535/],
	['unknown log level', { log => { level => 'loud' } }, 'log.level',
		qr/'loud' is not one of error, warn, notice, info, debug/],
	['empty log file', { log => { file => '' } }, 'log.file',
		qr/must be a string of 1 to \d+ bytes/],
	['fault rate above 1', { fault => { drop => 1.5 } }, 'fault.drop',
		qr/must be a number from 0 to 1/],
	['fault direction', { fault => { direction => 'up' } },
		'fault.direction', qr/must be rx, tx or both/],
	['restart delay negative', { process => { restart_delay_ms => -1 } },
		'process.restart_delay_ms', qr/must be a whole number from 0/],
	['unknown TCP key', { tcp => { nagle => \1 } }, 'tcp.nagle',
		qr/unknown key/],
	['unknown congestion control', { tcp => { cc => 'bbr' } }, 'tcp.cc',
		qr/'bbr' is not one of cubic, newreno/],
	['TCP flag not a boolean', { tcp => { sack => 1 } }, 'tcp.sack',
		qr/must be true or false/],
	['initial RTO outside min..max', { tcp => { rto_min_ms => 300,
		rto_initial_ms => 200 } }, 'tcp.rto_initial_ms',
		qr/must lie between rto_min_ms \(300\) and rto_max_ms/],
	['delayed ACK too long', { tcp => { delack_ms => 1000 } },
		'tcp.delack_ms', qr/must be a whole number from 0 to 500/],
	['big window without scaling', { tcp => { window_scaling => \0,
		rcv_wnd => 100000 } }, 'tcp.rcv_wnd',
		qr/must be at most 65535 when window_scaling is off/],
	['unknown HTTP key', { http => { client_max_body_size => 1 } },
		'http.client_max_body_size', qr/unknown key/],
	['HTTP limit out of range', { http => { max_request_line => 1 } },
		'http.max_request_line', qr/must be a whole number from 16 to/],
	['HTTP timeout zero', { http => { body_timeout_ms => 0 } },
		'http.body_timeout_ms', qr/must be a whole number from 1 to/],
	['HTTP flag not a boolean', { http => { date => 'no' } }, 'http.date',
		qr/must be true or false/],
	['arena too small for the fields', { http => { max_headers => 500,
		arena_size => 4096 } }, 'http.arena_size',
		qr/must be at least 16256 for max_headers = 500 .*raise arena_size/],
	['TLS listener without a key', { listen => [8080, { port => 8443,
		tls => { cert => 'a.pem' } }] }, 'listen[2].tls.key',
		qr/is required/],
	['TLS listener port repeated', { listen => [8443, { port => 8443,
		tls => { cert => 'a.pem', key => 'a.key' } }] },
		'listen[2].port', qr/repeats 8443/],
	['unknown key in a TLS certificate', { listen => [{ port => 8443,
		tls => [{ cert => 'a.pem', key => 'a.key', ocsp => 1 }] }] },
		'listen[1].tls.ocsp', qr/unknown key/],
	['ticket rotation too fast', { tls => { ticket_rotate_s => 1 } },
		'tls.ticket_rotate_s', qr/must be a whole number from 60 to/],
	['unknown Lua key', { lua => { timeout => 1 } }, 'lua.timeout',
		qr/unknown key/],
	['Lua kill delay too short', { lua => { kill_after_ms => 10 } },
		'lua.kill_after_ms', qr/must be a whole number from 100 to/],
	['auto reload not a boolean', { lua => { auto_reload => 'yes' } },
		'lua.auto_reload', qr/must be true or false/],
	['access log empty', { log => { access => '' } }, 'log.access',
		qr/must be a string of 1 to \d+ bytes/],
	['access buffer too small', { log => { access_buffer => 10 } },
		'log.access_buffer', qr/must be a whole number from 4096 to/],
	['test service port repeated', { test_service => { echo => 7,
		discard => 7 } }, 'test_service.discard',
		qr/port 7 is already echo's/],
	['client without a port', { test_service => { connect => {
		addr => CLIENT_IP } } }, 'test_service.connect.port',
		qr/is required/],
);

plan tests => 4 * @bad + 5 * 2 + 3;

for my $case (@bad) {
	my ($what, $conf, $key, $reason) = @$case;
	my ($file, $r) = check_conf({ %minimal, %$conf });
	is($r->{rc}, 1, "$what: refused");
	is($r->{out}, '', "$what: nothing on stdout");
	like($r->{err}, qr/\Aperigee: bad configuration: \Q$file\E: key '\Q$key\E': /,
	     "$what: names the file and key '$key'");
	my ($why) = $r->{err} =~ /key '[^']*': (.*)$/m;
	like($why // '', $reason, "$what: gives the reason")
		or diag($r->{err});
}

# Lua's own errors already name the file and the line.
{
	my ($file, $r) = check_conf("return {\n  name = 'x',\n  workers = {0\n");
	is($r->{rc}, 1, 'Lua syntax error: refused');
	like($r->{err}, qr/\Aperigee: bad configuration: \Q$file\E:\d+: .*expected/,
	     'Lua syntax error: file, line and message') or diag($r->{err});

	($file, $r) = check_conf("local t = {}\nerror('no such setting')\n");
	is($r->{rc}, 1, 'Lua runtime error: refused');
	like($r->{err}, qr/\Aperigee: bad configuration: \Q$file\E:2: no such setting/,
	     'Lua runtime error: file, line and message') or diag($r->{err});

	($file, $r) = check_conf("return 42\n");
	is($r->{rc}, 1, 'not returning a table: refused');
	like($r->{err}, qr/\Aperigee: bad configuration: \Q$file\E: must return a table \(got number\)/,
	     'not returning a table: says what it got') or diag($r->{err});

	$r = run_cmd($Perigee::Test::BIN, 'check', '-c', "$dir/missing.lua");
	is($r->{rc}, 1, 'missing file: refused');
	like($r->{err}, qr/\Aperigee: bad configuration: .*\Q$dir\E\/missing\.lua/,
	     'missing file: names it') or diag($r->{err});

	($file, $r) = check_conf("return nil\n");
	is($r->{rc}, 1, 'returning nil: refused');
	like($r->{err}, qr/must return a table \(got nil\)/,
	     'returning nil: says what it got') or diag($r->{err});
}

for my $good (['minimal', \%minimal], ['every key set', \%full],
	      ['the example', 'examples/perigee.conf.lua']) {
	my ($what, $conf) = @$good;
	my ($file, $r) = ref $conf ? check_conf($conf)
		: ($conf, run_cmd($Perigee::Test::BIN, 'check', '-c', $conf));
	ok($r->{rc} == 0 && $r->{out} eq "perigee: configuration $file is valid\n",
	   "$what: accepted") or diag("exit $r->{rc}\n$r->{out}$r->{err}");
}
