package Perigee::HttpTest;
# Data-driven HTTP tests of the whole server, in the spirit of Test::Nginx.
# A .t file ends with __DATA__ and blocks like:
#
#   === TEST 1: hello
#   --- app
#   local app = require("perigee").app()
#   app:get("/hello", function(req, res) return res:send("hi") end)
#   return app
#   --- config
#   http = { max_body = 1024 }
#   --- request
#   GET /hello
#   --- more_headers
#   X-Foo: bar
#   --- error_code: 200
#   --- response_headers
#   Content-Length: 2
#   --- response_body chomp
#   hi
#   --- no_error_log
#   [error]
#
# and calls Perigee::HttpTest::run(). Sections:
#   app            the Lua application (written to app.lua)
#   config         Lua table fields added to the configuration
#   request        "METHOD /path" on the first line, the body after it;
#                  sent with curl (HTTP/1.1) from the client namespace
#   raw_request    bytes sent as they are over one TCP connection ("eval":
#                  a Perl expression; otherwise lines joined with CRLF and
#                  ending with an empty line), the raw answer read until
#                  the server ends the connection or `timeout` passes; an
#                  eval giving an array sends its pieces one by one
#   raw_request_middle_delay  seconds between those pieces (what arrives
#                  meanwhile is read; sending stops when the server ends
#                  the connection)
#   timeout        seconds a raw request waits for the answer after its
#                  last piece (default 5); also the connect timeout
#   connection_end how the raw request's connection ended: eof, reset,
#                  closed (either), open (still open at the timeout) or
#                  refused (never connected); "eof 0.8 3": and 0.8 to 3 s
#                  after it was opened
#   held_connections  N connections opened (and left idle) before the raw
#                  request's; they and it are steered to worker 0, so a
#                  per-worker limit counts them all. After the raw request
#                  each sends held_request and its answer must match the
#                  regular expression held_response_like
#   more_headers   "Name: value" lines added to the request
#   error_code     the expected status (the first one, for raw requests)
#   response_headers  "Name: value" lines that must be in the response
#                  ("!Name" for absent)
#   response_body  the exact body ("chomp" drops the final newline)
#   response_body_like / raw_response_like  a regular expression
#   error_log / no_error_log  lines that must (not) appear in the log
#   status_delta   "http.NAME: N" lines (any counter total() reads): how
#                  much each moves over the request, summed over workers
#   access_log     regular expressions, one per line, each matched by a
#                  line the request added to DIR/access.log (the config
#                  names it as "@DIR@/access.log"; lines may take a second)
#   ONLY           run this block alone; SKIP skips it
# The server restarts when a block's config differs from the previous one;
# otherwise a new app is loaded with `perigee reload`.
use v5.36;
use Carp qw(croak);
use JSON::PP ();
use Test::More;
use Perigee::Test;

use constant { SERVER => '198.18.0.2', PORT => 8080 };

# Split the text after __DATA__ into blocks:
# [{ n, name, sections => { name => { value, mods => [..] } } }, ...]
sub parse_blocks($text) {
	my @blocks;
	my @chunks = split /^=== /m, $text;
	shift @chunks;                  # what comes before the first block
	for my $chunk (@chunks) {
		next unless $chunk =~ s/\A(?:TEST\s+(\d+):\s*)?(.*)\n//;
		my %b = (n => $1 // scalar(@blocks) + 1, name => $2,
			 sections => {});
		my $cur;
		for my $line (split /\n/, $chunk, -1) {
			my ($name, $inline, $mods);
			if ($line =~ /^--- (\w+):\s*(.*?)\s*$/) {
				($name, $inline) = ($1, $2);   # all of it: the value
			} elsif ($line =~ /^--- (\w+)((?:\s+\w+)*)\s*$/) {
				($name, $mods) = ($1, $2);
			}
			if (defined $name) {
				$cur = $b{sections}{$name} = {
					value => $inline // '',
					mods => [split ' ', $mods // ''],
					inline => defined $inline };
				next;
			}
			next unless $cur && !$cur->{inline};
			$cur->{value} .= "$line\n";
		}
		for my $s (values %{ $b{sections} }) {
			next if $s->{inline};
			$s->{value} =~ s/\n+\z/\n/;     # trailing blank lines
			chomp $s->{value} if grep { $_ eq 'chomp' } @{ $s->{mods} };
		}
		push @blocks, \%b;
	}
	return @blocks;
}

sub _section($b, $name) {
	my $s = $b->{sections}{$name} or return;
	return $s->{value} unless grep { $_ eq 'eval' } @{ $s->{mods} };
	my $v = eval $s->{value};
	croak "TEST $b->{n}: --- $name eval: $@" if $@;
	return $v;
}

# One curl request; returns { status, headers => { lc name => [values] },
# body }.
sub _curl($lab, $b) {
	my ($line, $body) = split /\n/, _section($b, 'request'), 2;
	my ($method, $path) = $line =~ /^(\S+)\s+(\S+)/
		or croak "TEST $b->{n}: --- request needs 'METHOD /path'";
	my $dir = $lab->dir;
	my @cmd = ('curl', '-sS', '--http1.1', '-m', '10', '-D',
		   "$dir/headers", '-o', "$dir/body", '-X', $method);
	for my $h (split /\n/, _section($b, 'more_headers') // '') {
		push @cmd, '-H', $h if $h =~ /\S/;
	}
	if (defined $body && length $body) {
		Perigee::Test::_spew("$dir/req-body", $body);
		push @cmd, '--data-binary', "\@$dir/req-body";
	}
	push @cmd, 'http://' . SERVER . ':' . PORT . $path;
	my $r = $lab->ns_exec({ timeout => 20 }, @cmd);
	return { error => "curl: $r->{err}" } if $r->{rc} != 0;
	my %res = (body => Perigee::Test::_slurp("$dir/body") // '');
	my @h = split /\r?\n/, Perigee::Test::_slurp("$dir/headers") // '';
	($res{status}) = (shift(@h) // '') =~ m{^HTTP/\S+\s+(\d+)};
	for (@h) {
		push @{ $res{headers}{lc $1} }, $2 if /^([^:]+):\s*(.*)$/;
	}
	return \%res;
}

# The client of raw_request, run in the client namespace: reads a JSON
# spec (pieces, delay, timeout, held, held_request, ports), prints a JSON
# result: raw (the answer), end ("eof", "reset", "open" when the timeout
# passed first, "refused" when the connection could not be made),
# elapsed (seconds from the connection to its end), held (the answers on
# the held connections: [{ raw, end }]).
use constant RAW_CLIENT => <<'EOF';
use v5.36;
use Errno ();
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use Time::HiRes qw(time sleep);

my $json = JSON::PP->new->latin1->canonical;
my $spec = $json->decode(do {
	open(my $f, '<:raw', $ARGV[0]) or die "$ARGV[0]: $!";
	local $/; <$f> });
$SIG{PIPE} = 'IGNORE';

sub connect_to($lport, $timeout) {
	return IO::Socket::INET->new(PeerAddr => $spec->{host},
		PeerPort => $spec->{port}, Proto => 'tcp',
		Timeout => $timeout,
		$lport ? (LocalPort => $lport, ReuseAddr => 1) : ());
}

# 1, or 0 with $! when the connection refuses more.
sub send_all($s, $data) {
	while (length $data) {
		my $n = syswrite($s, $data) // return 0;
		substr($data, 0, $n) = '';
	}
	return 1;
}

# Append what arrives within $secs to $$out: "eof", "reset", or undef
# when the connection is still open.
sub drain($s, $out, $secs) {
	my $sel = IO::Select->new($s);
	my $deadline = time + $secs;
	while ((my $left = $deadline - time) > 0) {
		next unless $sel->can_read($left);
		my $n = sysread($s, my $buf, 65536);
		return $!{ECONNRESET} ? 'reset' : "error: $!" unless defined $n;
		return 'eof' if $n == 0;
		$$out .= $buf;
	}
	return undef;
}

# Send the pieces (waiting delay seconds between them, reading what
# comes meanwhile), then read until the end or the timeout.
sub converse($s, $pieces, $delay, $timeout) {
	my ($raw, $end, $reset) = ('');
	for my $i (0 .. $#$pieces) {
		unless (send_all($s, $pieces->[$i])) {
			$reset = $!{ECONNRESET} || $!{EPIPE};
			last;
		}
		$end = drain($s, \$raw, $delay) if $i < $#$pieces && $delay > 0;
		last if $end;
	}
	$end //= drain($s, \$raw, $timeout) // 'open';
	$end = 'reset' if $reset && $end eq 'eof';
	return { raw => $raw, end => $end };
}

my @ports = @{ $spec->{ports} };
my @held = map {
	connect_to($ports[$_], 5) or die "held connection $_: connect: $!\n"
} 1 .. $spec->{held};
sleep 0.1 if @held;          # accepted by the server before the next one
my $t0 = time;
my $s = connect_to($ports[0], $spec->{timeout});
# (A reset that beats connect() to its end is a reset too.)
my $res = $s ? converse($s, $spec->{pieces}, $spec->{delay},
			$spec->{timeout})
	     : { raw => '', end => $!{ECONNRESET} ? 'reset' : 'refused',
		 connect_error => "$!" };
$res->{elapsed} = time - $t0;
$res->{held} = [ map { converse($_, [$spec->{held_request}], 0,
				$spec->{timeout}) } @held ];
print $json->encode($res);
EOF

# Source ports whose flows the workers' steering gives to worker 0 (the
# limits are per worker), from a random start so that no 4-tuple of an
# earlier block is reused.
sub _worker0_ports($lab, $n) {
	my $workers = scalar @{ $lab->config->{workers} };
	my ($port, @ports) = (20000 + int rand 30000);
	for (; @ports < $n; $port++) {
		push @ports, $port
			if steer_owner(CLIENT_IP, $port, SERVER_IP, PORT,
				       $workers) == 0;
	}
	return @ports;
}

# raw_request over one connection (see RAW_CLIENT); returns { status,
# headers, body } of the first answer with the client's fields.
sub _raw($lab, $b) {
	my $req = _section($b, 'raw_request');
	my @pieces = ref $req eq 'ARRAY' ? @$req : ($req);
	unless (grep { $_ eq 'eval' } @{ $b->{sections}{raw_request}{mods} }) {
		$req =~ s/\n\z//;
		@pieces = (join("\r\n", split /\n/, $req, -1) . "\r\n\r\n");
	}
	my $held = _section($b, 'held_connections') // 0;
	my %spec = (host => SERVER, port => PORT, pieces => \@pieces,
		    delay => _section($b, 'raw_request_middle_delay') // 0,
		    timeout => _section($b, 'timeout') // 5, held => $held,
		    held_request => scalar _section($b, 'held_request'),
		    ports => $held ? [_worker0_ports($lab, $held + 1)] : []);
	my $dir = $lab->dir;
	my $json = JSON::PP->new->latin1->canonical;
	Perigee::Test::_spew("$dir/raw-req", $json->encode(\%spec));
	my $limit = 15 + $spec{timeout} * (1 + $held)
		    + $spec{delay} * @pieces;
	my $r = $lab->ns_exec({ timeout => $limit }, 'perl', '-e', RAW_CLIENT,
			      "$dir/raw-req");
	return { error => "raw request: $r->{err}" } if $r->{rc} != 0;
	my $res = eval { $json->decode($r->{out}) }
		or return { error => "raw request: $@$r->{out}" };
	($res->{status}) = $res->{raw} =~ m{\AHTTP/\S+\s+(\d+)};
	my ($head, $body) = split /\r\n\r\n/, $res->{raw}, 2;
	for (split /\r\n/, $head // '') {
		push @{ $res->{headers}{lc $1} }, $2 if /^([^:]+):\s*(.*)$/;
	}
	$res->{body} = $body // '';
	return $res;
}

# connection_end: "eof", "reset", "closed" (either), "open" or "refused",
# then optionally MIN MAX: seconds from the connection to its end.
sub _check_end($b, $t, $res) {
	my $spec = _section($b, 'connection_end') // return;
	my ($want, $min, $max) = split ' ', $spec;
	my $got = $res->{end} // '(no connection)';
	ok($want eq 'closed' ? $got =~ /\A(?:eof|reset)\z/ : $got eq $want,
	   "$t: connection $want") or diag("connection: $got "
					    . ($res->{connect_error} // ''));
	return unless defined $min;
	my $s = $res->{elapsed} // -1;
	ok($s >= $min && $s <= $max, "$t: ended after $min to $max s")
		or diag(sprintf 'ended after %.3f s', $s);
}

sub _check_held($b, $t, $res) {
	my $re = _section($b, 'held_response_like') // return;
	chomp $re;
	my $i = 0;
	for my $h (@{ $res->{held} // [] }) {
		$i++;
		like($h->{raw}, qr/$re/s,
		     "$t: held connection $i answered like /$re/");
	}
	is($i, _section($b, 'held_connections') // 0,
	   "$t: every held connection was answered");
}

sub _check($lab, $b, $res, $mark) {
	my $t = "TEST $b->{n}: $b->{name}";
	if ($res->{error}) {
		fail("$t: the request went through");
		diag($res->{error});
		return;
	}
	if (defined(my $code = _section($b, 'error_code'))) {
		is($res->{status}, $code, "$t: status $code");
	}
	for my $h (split /\n/, _section($b, 'response_headers') // '') {
		if ($h =~ /^!\s*(\S+)/) {
			ok(!$res->{headers}{lc $1}, "$t: no $1 header");
		} elsif ($h =~ /^([^:]+):\s*(.*)$/) {
			my ($n, $v) = (lc $1, $2);
			ok((grep { $_ eq $v } @{ $res->{headers}{$n} // [] }),
			   "$t: $1: $v") or diag("$1: "
				. join(', ', @{ $res->{headers}{$n} // [] }));
		}
	}
	is($res->{body}, _section($b, 'response_body'), "$t: body")
		if exists $b->{sections}{response_body};
	if (defined(my $re = _section($b, 'response_body_like'))) {
		chomp $re;
		like($res->{body}, qr/$re/s, "$t: body like /$re/");
	}
	if (defined(my $re = _section($b, 'raw_response_like'))) {
		chomp $re;
		like($res->{raw}, qr/$re/s, "$t: raw answer like /$re/");
	}
	_check_end($b, $t, $res);
	_check_held($b, $t, $res);
	for my $l (split /\n/, _section($b, 'error_log') // '') {
		ok(scalar $lab->log_grep(qr/\Q$l\E/, $mark), "$t: log has '$l'");
	}
	for my $l (split /\n/, _section($b, 'no_error_log') // '') {
		my @hit = $lab->log_grep(qr/\Q$l\E/, $mark);
		ok(!@hit, "$t: log has no '$l'") or diag(join "\n", @hit);
	}
	_check_status($lab, $b, $t, $res->{status_before});
	_check_access_log($lab, $b, $t, $res->{access_mark} // 0);
}

# "name: n" lines of status_delta, as [name, n].
sub _status_fields($b) {
	return map { /^\s*(\S+?):\s*(\d+)\s*$/ ? [$1, $2] : () }
		split /\n/, _section($b, 'status_delta') // '';
}

sub _status_totals($lab, @fields) {
	my $st = $lab->status or return;
	return { map { $_->[0] => Perigee::Test::total($st, $_->[0]) } @fields };
}

# Counters are written before the response leaves, but a close or a
# timeout may count a moment later: wait up to 2 s for the expected values.
sub _check_status($lab, $b, $t, $before) {
	my @f = _status_fields($b) or return;
	my $after;
	Perigee::Test::wait_for(sub {
		$after = _status_totals($lab, @f) or return 0;
		!grep { $after->{$_->[0]} - $before->{$_->[0]} != $_->[1] } @f;
	}, 2);
	for my $f (@f) {
		my ($name, $n) = @$f;
		is(($after->{$name} // 0) - ($before->{$name} // 0), $n,
		   "$t: status $name +$n");
	}
}

sub _access_path($lab) { $lab->dir . '/access.log' }

# Lines appear when a worker flushes its buffer (once per second).
sub _check_access_log($lab, $b, $t, $mark) {
	my @re = grep { /\S/ } split /\n/, _section($b, 'access_log') // '';
	return unless @re;
	my @lines;
	my $all = sub {
		my $text = substr(Perigee::Test::_slurp(_access_path($lab))
				  // '', $mark);
		@lines = split /\n/, $text;
		my $n = grep { my $re = $_; grep { /$re/ } @lines } @re;
		$n == @re;
	};
	Perigee::Test::wait_for($all, 3);
	for my $re (@re) {
		ok((grep { /$re/ } @lines), "$t: access log has /$re/")
			or diag("access log:\n" . join("\n", @lines));
	}
}

# Run every block of the calling file's __DATA__ (or the ONLY one).
sub run(%opt) {
	my $text = do { no strict 'refs'; local $/; my $fh = \*{'main::DATA'};
			<$fh> } // croak 'no __DATA__ section';
	my @blocks = parse_blocks($text);
	my @only = grep { $_->{sections}{ONLY} } @blocks;
	@blocks = @only if @only;
	my $lab = Perigee::Test->new(workers => $opt{workers} // [0, 1]);
	my $app = $lab->dir . '/app.lua';
	my ($config, $started);
	for my $b (@blocks) {
		if ($b->{sections}{SKIP}) {
			SKIP: { skip("TEST $b->{n}: $b->{name}", 1) }
			next;
		}
		Perigee::Test::_spew($app, _section($b, 'app')
				     // "return require('perigee').app()\n");
		my $cfg = _section($b, 'config') // '';
		$cfg =~ s/\@DIR\@/$lab->dir/ge;
		# (The log goes on across restarts: only what this block adds.)
		my $mark = $started ? $lab->log_mark : 0;
		if (!$started || $cfg ne $config) {
			$lab->stop if $started;
			$lab->write_conf({ app => $app, listen => [PORT] }, $cfg);
			$started = $lab->start
				or BAIL_OUT("TEST $b->{n}: the server did not start");
			$config = $cfg;
		} else {
			my $r = $lab->perigee('reload');
			unless ($r->{rc} == 0) {
				fail("TEST $b->{n}: the app loads");
				diag($r->{out});
				next;
			}
		}
		my $before = _status_fields($b)
			? _status_totals($lab, _status_fields($b)) : undef;
		my $amark = length(Perigee::Test::_slurp(_access_path($lab))
				   // '');
		my $res = $b->{sections}{raw_request} ? _raw($lab, $b)
						       : _curl($lab, $b);
		$res->{status_before} = $before;
		$res->{access_mark} = $amark;
		_check($lab, $b, $res, $mark);
	}
	$lab->stop if $started;
	done_testing;
}

1;
