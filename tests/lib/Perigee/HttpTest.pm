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
#                  sent with curl from the client namespace. An eval
#                  giving an array sends several requests, one after the
#                  other over one connection (h2c: one connection each,
#                  curl 7.88 cannot reuse a prior-knowledge connection,
#                  curl/curl#10634); a section whose eval gives an array
#                  then holds one value per request (undef: no check),
#                  any other value holds for every request
#   request_middle_delay  seconds between the requests (each then has its
#                  own connection)
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
#   error_code     the expected status (the first one of an answer)
#   response_headers  "Name: value" lines that must be in the response
#                  ("!Name" for absent)
#   response_body  the exact body ("chomp" drops the final newline)
#   response_body_like  a regular expression
#   raw_response_like  a regular expression over the answer as it came:
#                  the raw bytes, or for curl the head as curl wrote it
#                  (HTTP/2: "HTTP/2 200 ", field names in lower case),
#                  then the body
#   response_time  "MIN MAX": seconds each curl request took
#   error_log / no_error_log  lines that must (not) appear in the log
#   status_delta   "http.NAME: N" lines (any counter total() reads): how
#                  much each moves over the request, summed over workers
#   access_log     regular expressions, one per line, each matched by a
#                  line the request added to DIR/access.log (the config
#                  names it as "@DIR@/access.log"; lines may take a second)
#   ONLY           run this block alone; SKIP skips it
# The server restarts when a block's config differs from the previous one;
# otherwise a new app is loaded with `perigee reload`.
#
# Transports. Every server listens on 8080 (HTTP/1.1, and HTTP/2 by prior
# knowledge) and on 8443 with TLS (a certificate made by scripts/make-cert
# for the run; ALPN h2 or http/1.1). A block runs over one of four
# transports:
#   h1     HTTP/1.1            h2c    HTTP/2 by prior knowledge
#   h1tls  HTTP/1.1 over TLS   h2tls  HTTP/2 over TLS
# chosen by the run (run(transport => NAME), else the environment's
# PERIGEE_TRANSPORT, else h1) and by two sections without a value that
# add to it: `--- http2` (HTTP/2) and `--- tls`. Sections and
# skip_transport name transports by these names or by the groups http1,
# http2 (the version), plain and tls (the carrier):
#   --- response_body chomp http2   this section replaces the one without
#                  a transport when the block runs over h2c or h2tls
#   --- error_code http2: 200       the same, inline
#   --- skip_transport: http2 HTTP/1.0 has no HTTP/2 form
#                  the block is skipped over those transports, with the
#                  words after them as the reason
# Over HTTP/2 the harness also:
#   - skips a raw_request block (its bytes are HTTP/1.1);
#   - reads a status_delta "http.NAME" as "h2.NAME", the HTTP/2 counter of
#     the same name, and skips the line when there is none;
#   - checks that the connection-specific fields HTTP/2 forbids
#     (Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding,
#     Upgrade: RFC 9113 8.2.2) are absent where response_headers wants
#     one present;
#   - fails a request that curl sent with another HTTP version.
# Over h1tls a raw_request goes through IO::Socket::SSL (the block is
# skipped when it is not installed).
use v5.36;
use Carp qw(croak);
use JSON::PP ();
use Test::More;
use Time::HiRes ();
use Perigee::Test;

use constant { SERVER => '198.18.0.2', PORT => 8080, TLS_PORT => 8443 };

# The files whose blocks are the application suite, which 106-108 run over
# h2c, h1tls and h2tls.
use constant APP_SUITE => map { "tests/t/$_" }
	qw(100-http-lua.t 101-http-shared.t 105-http-lua-api.t);

# --- transports -------------------------------------------------------------

# The four transports: HTTP/2 or not, TLS or not, how curl is told, the
# version curl must report.
my %TRANSPORTS = (
	h1    => { http2 => 0, tls => 0, version => '1.1',
		   curl => ['--http1.1'] },
	h2c   => { http2 => 1, tls => 0, version => '2',
		   curl => ['--http2-prior-knowledge'] },
	h1tls => { http2 => 0, tls => 1, version => '1.1',
		   curl => ['-k', '--http1.1'] },
	h2tls => { http2 => 1, tls => 1, version => '2',
		   curl => ['-k', '--http2'] },
);

# The groups of transports: what they have in common.
my %GROUPS = (http1 => [http2 => 0], http2 => [http2 => 1],
	      plain => [tls => 0], tls => [tls => 1]);

# The transports a word names: itself, or a group; () when it names none.
sub transports_named($word) {
	return $word if $TRANSPORTS{$word};
	my ($key, $want) = @{ $GROUPS{$word} // return };
	return sort grep { $TRANSPORTS{$_}{$key} == $want } keys %TRANSPORTS;
}

# The transport of a block in a run over $run: the run's, with HTTP/2
# and TLS added when the block asks for them.
sub block_transport($b, $run) {
	my $r = $TRANSPORTS{$run} or croak "unknown transport '$run' (one of "
		. join(', ', sort keys %TRANSPORTS) . ')';
	my $h2 = $r->{http2} || exists $b->{sections}{http2} ? 1 : 0;
	my $tls = $r->{tls} || exists $b->{sections}{tls} ? 1 : 0;
	my ($t) = grep { $TRANSPORTS{$_}{http2} == $h2
			 && $TRANSPORTS{$_}{tls} == $tls } keys %TRANSPORTS;
	return $t;
}

sub _http2($b) { $TRANSPORTS{ $b->{transport} // 'h1' }{http2} }
sub _tls($b) { $TRANSPORTS{ $b->{transport} // 'h1' }{tls} }

# Why block $b cannot run over its transport; undef when it can.
sub skip_reason($b) {
	my $t = $b->{transport} // 'h1';
	return 'SKIP' if $b->{sections}{SKIP};
	if (defined(my $s = $b->{sections}{skip_transport})) {
		my @w = split ' ', $s->{value};
		my %on;
		while (@w && (my @t = transports_named($w[0]))) {
			@on{@t} = ();
			shift @w;
		}
		return "not over $t: @w" if exists $on{$t};
	}
	if (_pick($b, 'raw_request')) {
		return "not over $t: raw_request bytes are HTTP/1.1"
			if _http2($b);
		return "not over $t: IO::Socket::SSL is not installed"
			if _tls($b) && !eval { require IO::Socket::SSL };
	}
	return undef;
}

# --- blocks -----------------------------------------------------------------

# "--- name mods", "--- name mods: inline value" (all of the rest).
my $SECTION_LINE = qr/^--- (\w+)((?:\s+\w+)*)\s*(?::\s*(.*?))?\s*$/;

# Split the text after __DATA__ into blocks:
# [{ n, name, sections => { name => { value, mods => [..] } },
#    on => { transport => { name => section } } }, ...]
# where `on` has the sections qualified with transports.
sub parse_blocks($text) {
	my @blocks;
	my @chunks = split /^=== /m, $text;
	shift @chunks;                  # what comes before the first block
	for my $chunk (@chunks) {
		next unless $chunk =~ s/\A(?:TEST\s+(\d+):\s*)?(.*)\n//;
		my %b = (n => $1 // scalar(@blocks) + 1, name => $2,
			 sections => {}, on => {});
		my ($cur, @all);
		for my $line (split /\n/, $chunk, -1) {
			if ($line =~ $SECTION_LINE) {
				$cur = _add_section(\%b, $1, $2, $3);
				push @all, $cur;
				next;
			}
			next unless $cur && !$cur->{inline};
			$cur->{value} .= "$line\n";
		}
		for my $s (@all) {
			next if $s->{inline};
			$s->{value} =~ s/\n+\z/\n/;     # trailing blank lines
			chomp $s->{value} if grep { $_ eq 'chomp' } @{ $s->{mods} };
		}
		push @blocks, \%b;
	}
	return @blocks;
}

# A section of block $b; modifiers naming transports file it under them.
sub _add_section($b, $name, $words, $inline) {
	my (@mods, @on);
	for my $w (split ' ', $words) {
		my @t = transports_named($w);
		@t ? push(@on, @t) : push(@mods, $w);
	}
	my $s = { value => $inline // '', mods => \@mods,
		  inline => defined $inline };
	$b->{on}{$_}{$name} = $s for @on;
	$b->{sections}{$name} = $s unless @on;
	return $s;
}

# The section $name of $b over its transport.
sub _pick($b, $name) {
	return $b->{on}{ $b->{transport} // 'h1' }{$name}
		// $b->{sections}{$name};
}

sub _section($b, $name) {
	my $s = _pick($b, $name) or return;
	return $s->{value} unless grep { $_ eq 'eval' } @{ $s->{mods} };
	my $v = eval $s->{value};
	croak "$b->{title}: --- $name eval: $@" if $@;
	return $v;
}

# The value of a section for the i-th request: its element when the
# section is a list (an eval), else the value.
sub _nth($b, $name, $i) {
	my $v = _section($b, $name);
	return ref $v eq 'ARRAY' ? $v->[$i] : $v;
}

# --- curl -------------------------------------------------------------------

# The requests of a block: [{ method, path, body }, ...].
sub _requests($b) {
	my $r = _section($b, 'request');
	return map {
		my ($line, $body) = split /\n/, $_, 2;
		my ($method, $path) = $line =~ /^(\S+)\s+(\S+)/
			or croak "$b->{title}: --- request: 'METHOD /path'";
		+{ method => $method, path => $path, body => $body };
	} ref $r eq 'ARRAY' ? @$r : ($r);
}

# curl's options for the i-th request of $b (files DIR/*.i).
sub _curl_args($lab, $b, $i, $req) {
	my $t = $TRANSPORTS{ $b->{transport} };
	my $dir = $lab->dir;
	my @a = (@{ $t->{curl} }, '-sS', '-m', '10', '-D', "$dir/head.$i",
		 '-o', "$dir/body.$i", '-w', '%{http_version} %{time_total}\n',
		 # (HEAD with -X would wait for the body Content-Length
		 # announces.)
		 $req->{method} eq 'HEAD' ? '-I' : ('-X', $req->{method}));
	for my $h (split /\n/, _nth($b, 'more_headers', $i) // '') {
		push @a, '-H', $h if $h =~ /\S/;
	}
	if (defined $req->{body} && length $req->{body}) {
		Perigee::Test::_spew("$dir/req-body.$i", $req->{body});
		push @a, '--data-binary', "\@$dir/req-body.$i";
	}
	my $url = $t->{tls} ? 'https://' . SERVER . ':' . TLS_PORT
			    : 'http://' . SERVER . ':' . PORT;
	return (@a, $url . $req->{path});
}

# Into $res, from the head of an answer: status (the first one) and
# headers => { lc name => [values] }.
sub _read_head($res, $head) {
	my @h = split /\r?\n/, $head;
	($res->{status}) = (shift(@h) // '') =~ m{^HTTP/\S+\s+(\d+)};
	for (@h) {
		push @{ $res->{headers}{lc $1} }, $2 if /^([^:]+):\s*(.*)$/;
	}
}

# The answer curl wrote for the i-th request: { status, headers, body,
# raw, version, elapsed }.
sub _curl_answer($lab, $i, $method, $w) {
	my $dir = $lab->dir;
	my $head = Perigee::Test::_slurp("$dir/head.$i") // '';
	# (-I writes the head as the body too.)
	my %res = (body => $method eq 'HEAD' ? ''
			   : Perigee::Test::_slurp("$dir/body.$i") // '');
	$res{raw} = $head . $res{body};
	@res{qw(version elapsed)} = split ' ', $w // '';
	_read_head(\%res, $head);
	return \%res;
}

# The block's requests with curl, in one run over one connection, or one
# run each (a delay between them; h2c, see the header comment). Returns
# { answers => [...] } or { error }.
sub _curl($lab, $b) {
	my @reqs = _requests($b);
	my @args = map { [_curl_args($lab, $b, $_, $reqs[$_])] } 0 .. $#reqs;
	my $delay = _section($b, 'request_middle_delay') // 0;
	my @runs = @args;
	@runs = ([map { ($_ ? '--next' : ()), @{ $args[$_] } } 0 .. $#args])
		unless $delay || $b->{transport} eq 'h2c';
	my @w;
	for my $run (@runs) {
		Time::HiRes::sleep($delay) if @w && $delay;
		my $r = $lab->ns_exec({ timeout => 20 * @reqs }, 'curl', @$run);
		return { error => "curl: $r->{err}" } if $r->{rc} != 0;
		push @w, split /\n/, $r->{out};
	}
	my @answers = map { _curl_answer($lab, $_, $reqs[$_]{method}, $w[$_]) }
		0 .. $#reqs;
	my $want = $TRANSPORTS{ $b->{transport} }{version};
	for my $i (0 .. $#answers) {
		my $got = $answers[$i]{version} // '?';
		return { error => 'request ' . ($i + 1)
			 . " went over HTTP/$got, not HTTP/$want" }
			if $got ne $want;
	}
	return { answers => \@answers };
}

# The client of raw_request, run in the client namespace: reads a JSON
# spec (host, port, tls, pieces, delay, timeout, held, held_request,
# ports), prints a JSON
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
	my %o = (PeerAddr => $spec->{host}, PeerPort => $spec->{port},
		 Proto => 'tcp', Timeout => $timeout,
		 $lport ? (LocalPort => $lport, ReuseAddr => 1) : ());
	return IO::Socket::INET->new(%o) unless $spec->{tls};
	require IO::Socket::SSL;
	return IO::Socket::SSL->new(%o, SSL_verify_mode => 0,
				    SSL_alpn_protocols => ['http/1.1']);
}

# Is there something to read within $secs? (TLS may hold decrypted bytes
# that select() does not see.)
sub readable($s, $sel, $secs) {
	return 1 if $s->can('pending') && $s->pending;
	return $sel->can_read($secs);
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
		next unless readable($s, $sel, $left);
		my $n = sysread($s, my $buf, 65536);
		return $!{ECONNRESET} ? 'reset' : tls_eof() ? 'eof'
			: "error: $!" unless defined $n;
		return 'eof' if $n == 0;
		$$out .= $buf;
	}
	return undef;
}

# OpenSSL 3 calls a close without close_notify an error; here it is the
# end of the connection like any other.
sub tls_eof() {
	return $spec->{tls}
		&& ($IO::Socket::SSL::SSL_ERROR // '') =~ /unexpected eof/i;
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
sub _worker0_ports($lab, $dport, $n) {
	my $workers = scalar @{ $lab->config->{workers} };
	my ($port, @ports) = (20000 + int rand 30000);
	for (; @ports < $n; $port++) {
		push @ports, $port
			if steer_owner(CLIENT_IP, $port, SERVER_IP, $dport,
				       $workers) == 0;
	}
	return @ports;
}

# raw_request over one connection (see RAW_CLIENT), with TLS over h1tls;
# returns { answers => [{ status, headers, body }] } (of the first
# answer, with the client's fields).
sub _raw($lab, $b) {
	my $req = _section($b, 'raw_request');
	my @pieces = ref $req eq 'ARRAY' ? @$req : ($req);
	unless (grep { $_ eq 'eval' } @{ _pick($b, 'raw_request')->{mods} }) {
		$req =~ s/\n\z//;
		@pieces = (join("\r\n", split /\n/, $req, -1) . "\r\n\r\n");
	}
	my $held = _section($b, 'held_connections') // 0;
	my $port = _tls($b) ? TLS_PORT : PORT;
	my %spec = (host => SERVER, port => $port, tls => _tls($b) ? 1 : 0,
		    pieces => \@pieces,
		    delay => _section($b, 'raw_request_middle_delay') // 0,
		    timeout => _section($b, 'timeout') // 5, held => $held,
		    held_request => scalar _section($b, 'held_request'),
		    ports => $held ? [_worker0_ports($lab, $port, $held + 1)]
				   : []);
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
	my ($head, $body) = split /\r\n\r\n/, $res->{raw}, 2;
	_read_head($res, $head // '');
	$res->{body} = $body // '';
	return { answers => [$res] };
}

# --- checks -----------------------------------------------------------------

# A test that $s seconds lie within MIN and MAX.
sub _check_within($t, $what, $s, $min, $max) {
	$s //= -1;
	ok($s >= $min && $s <= $max, "$t: $what $min to $max s")
		or diag(sprintf '%s %.3f s', $what, $s);
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
	_check_within($t, 'ended after', $res->{elapsed}, $min, $max)
		if defined $min;
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

# The connection-specific fields HTTP/2 forbids (RFC 9113 8.2.2).
my $H1_ONLY = qr/\A(?:connection|keep-alive|proxy-connection
		     |transfer-encoding|upgrade)\z/xi;

# response_headers of answer $a; over HTTP/2 a connection-specific field
# must be absent even where the block wants it.
sub _check_headers($b, $t, $a, $spec) {
	for my $h (split /\n/, $spec // '') {
		my ($n, $v) = $h =~ /^!\s*(\S+)/ ? ($1)
			    : $h =~ /^([^:]+):\s*(.*)$/ ? ($1, $2) : next;
		my $got = $a->{headers}{lc $n} // [];
		if (defined $v && !(_http2($b) && $n =~ $H1_ONLY)) {
			ok((grep { $_ eq $v } @$got), "$t: $n: $v")
				or diag("$n: " . join(', ', @$got));
			next;
		}
		ok(!@$got, "$t: no $n header" . (defined $v
		   ? ' (HTTP/2 has no connection-specific fields)' : ''))
			or diag("$n: " . join(', ', @$got));
	}
}

# The checks of the i-th answer.
sub _check_answer($b, $t, $a, $i) {
	if (defined(my $code = _nth($b, 'error_code', $i))) {
		is($a->{status}, $code, "$t: status $code");
	}
	_check_headers($b, $t, $a, _nth($b, 'response_headers', $i));
	if (defined(my $body = _nth($b, 'response_body', $i))) {
		is($a->{body}, $body, "$t: body");
	}
	for my $c (['response_body_like', 'body', 'body'],
		   ['raw_response_like', 'raw', 'raw answer']) {
		my ($section, $key, $what) = @$c;
		my $re = _nth($b, $section, $i) // next;
		chomp $re;
		like($a->{$key}, qr/$re/s, "$t: $what like /$re/");
	}
	if (defined(my $range = _nth($b, 'response_time', $i))) {
		_check_within($t, 'answered in', $a->{elapsed},
			      split ' ', $range);
	}
}

sub _check($lab, $b, $res, $mark) {
	my $t = $b->{title};
	if ($res->{error}) {
		fail("$t: the request went through");
		diag($res->{error});
		return;
	}
	my @answers = @{ $res->{answers} };
	for my $i (0 .. $#answers) {
		_check_answer($b, @answers > 1 ? "$t: request " . ($i + 1) : $t,
			      $answers[$i], $i);
	}
	_check_end($b, $t, $answers[0]);
	_check_held($b, $t, $answers[0]);
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

# "name: n" lines of status_delta, as [name, n, the counter read]: over
# HTTP/2 "http.NAME" reads its twin "h2.NAME".
sub status_fields($b) {
	my @f = map { /^\s*(\S+?):\s*(\d+)\s*$/ ? [$1, $2, $1] : () }
		split /\n/, _section($b, 'status_delta') // '';
	$_->[2] =~ s/\Ahttp\./h2./ for _http2($b) ? @f : ();
	return @f;
}

# { counter read => total } of the fields whose counter the status has;
# undef when the server does not answer.
sub _status_totals($lab, @fields) {
	my $st = $lab->status or return;
	my %t;
	for my $f (@fields) {
		my $v = eval { total($st, $f->[2]) };
		$t{ $f->[2] } = $v if defined $v;
	}
	return \%t;
}

# Counters are written before the response leaves, but a close or a
# timeout may count a moment later: wait up to 2 s for the expected values.
sub _check_status($lab, $b, $t, $before) {
	my @f = status_fields($b) or return;
	return fail("$t: status before the request") unless $before;
	my @have;
	for my $f (@f) {
		if (defined $before->{ $f->[2] }) {
			push @have, $f;
			next;
		}
		SKIP: { skip("$t: status $f->[0]: no counter $f->[2] over "
			     . $b->{transport}, 1) }
	}
	my $after;
	Perigee::Test::wait_for(sub {
		$after = _status_totals($lab, @have) or return 0;
		!grep { ($after->{ $_->[2] } // 0) - $before->{ $_->[2] }
			!= $_->[1] } @have;
	}, 2);
	for my $f (@have) {
		my ($name, $n, $read) = @$f;
		my $as = $read ne $name ? " (as $read)" : '';
		is(($after->{$read} // 0) - $before->{$read}, $n,
		   "$t: status $name +$n$as");
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

# --- running ----------------------------------------------------------------

# The text after __DATA__ of the calling file, or of file $path.
sub _data($path = undef) {
	unless (defined $path) {
		no strict 'refs';
		local $/;
		my $fh = \*{'main::DATA'};
		return scalar(<$fh>) // croak 'no __DATA__ section';
	}
	my $text = Perigee::Test::_slurp($path) // croak "read $path: $!";
	$text =~ s/\A.*?^__DATA__\n//ms or croak "$path: no __DATA__ section";
	return $text;
}

# The blocks to run over $run: each with its transport and title.
sub _blocks($run, @files) {
	my @blocks;
	for my $file (@files ? @files : (undef)) {
		my $from = defined $file ? ($file =~ s{.*/}{}r) . ' ' : '';
		for my $b (parse_blocks(_data($file))) {
			$b->{transport} = block_transport($b, $run);
			my $over = $b->{transport} ne 'h1'
				   ? " [$b->{transport}]" : '';
			$b->{title} = "${from}TEST $b->{n}: $b->{name}$over";
			push @blocks, $b;
		}
	}
	my @only = grep { $_->{sections}{ONLY} } @blocks;
	return @only ? @only : @blocks;
}

# The listeners: PORT, and TLS_PORT with a certificate made for the run.
sub _listen($lab) {
	my $dir = $lab->make_cert('cert');
	return [PORT, { port => TLS_PORT, tls => { cert => "$dir/cert.pem",
						    key => "$dir/key.pem" } }];
}

# Run every block of the calling file's __DATA__ (or the ONLY ones).
# Options: transport (h1, h2c, h1tls or h2tls; default PERIGEE_TRANSPORT,
# else h1), data (.t files whose blocks to run instead, each test then
# named after its file), workers (CPUs, default [0, 1]).
sub run(%opt) {
	my $run = $opt{transport} // $ENV{PERIGEE_TRANSPORT} // 'h1';
	my @blocks = _blocks($run, @{ $opt{data} // [] });
	my $lab = Perigee::Test->new(workers => $opt{workers} // [0, 1]);
	my $app = $lab->dir . '/app.lua';
	my $listen = _listen($lab);
	my ($config, $started);
	for my $b (@blocks) {
		if (defined(my $why = skip_reason($b))) {
			SKIP: { skip("$b->{title}: $why", 1) }
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
			$lab->write_conf({ app => $app, listen => $listen },
					 $cfg);
			$started = $lab->start or BAIL_OUT(
				"$b->{title}: the server did not start");
			$config = $cfg;
		} else {
			my $r = $lab->perigee('reload');
			unless ($r->{rc} == 0) {
				fail("$b->{title}: the app loads");
				diag($r->{out});
				next;
			}
		}
		my $before = status_fields($b)
			? _status_totals($lab, status_fields($b)) : undef;
		my $amark = length(Perigee::Test::_slurp(_access_path($lab))
				   // '');
		my $res = _pick($b, 'raw_request') ? _raw($lab, $b)
						    : _curl($lab, $b);
		$res->{status_before} = $before;
		$res->{access_mark} = $amark;
		_check($lab, $b, $res, $mark);
	}
	$lab->stop if $started;
	done_testing;
}

1;
