# HTTP/2 attacks against the real server (h2c by prior knowledge on the
# plain port), each from its own connection: rapid reset and MadeYouReset
# (resets the server is made to send), CONTINUATION floods, HPACK bomb,
# oversized header lists and too many fields, a bad HPACK reference,
# SETTINGS, PING and ACK floods, empty DATA frames and tiny WINDOW_UPDATEs
# (also on closed streams, which nghttp2 drops unseen), WINDOW_UPDATE abuse,
# stream-id misuse and frames on the wrong stream. Each case checks how the
# server stops it (GOAWAY with the error code RFC 9113 asks for, then the
# close; or the answer or reset of the one stream), that exactly the
# counters that say so moved under `h2` in `perigee status`, and that a
# legitimate client on another connection of the same worker was served
# before, during and after the attack. A case the server does not stop
# yet is a TODO that says why.
#
# The client side of each case runs in the client namespace: this file
# runs itself there (Perigee::H2Raw::run_client), and the attacker's
# frames are written with Perigee::H2Raw. The limits are small so that
# the floods are short.
use v5.36;
use lib 'tests/lib';
use Test::More;
use Perigee::Test;
use Perigee::H2Raw;

use constant PORT => 8080;

our $TODO;

my $hello = sub ($sid) { request($sid, '/hello') };

# Cases: name; client: the attack, given the attacker's connection and a
# sub that has the legitimate client make one request meanwhile; what the
# attacker must see: goaway (its code; the connection then ends), status
# (the statuses of each stream answered, exactly), rst (the code of each
# stream reset); counters: how much each h2 counter of $WATCHED moves, N
# or [MIN, MAX] (every other watched counter stays; goaway_sent moves by 1
# with a goaway); todo: why the server does not stop it yet.
my @CASES = (
	{ name => 'rapid reset: HEADERS then RST_STREAM(CANCEL), 60 times',
	  client => sub ($c, $meanwhile) {
		for my $i (0 .. 59) {
			my $sid = 2 * $i + 1;
			$c->send($hello->($sid), frame(RST_STREAM, 0, $sid,
						       pack 'N', CANCEL))
				or last;
			$meanwhile->() if $i % 20 == 10;
		}
	  },
	  goaway => ENHANCE_YOUR_CALM, counters => { flood_rst => 1 } },

	{ name => 'a header block in HEADERS and 4 CONTINUATIONs (the limit) '
		  . 'is served',
	  client => sub ($c, $meanwhile) {
		my $block = request_block('/hello');
		$c->send(header_frames(1, END_STREAM, $block,
				       int(length($block) / 5) + 1));
	  },
	  status => { 1 => [200] }, counters => {} },

	{ name => 'CONTINUATION flood: 10 CONTINUATIONs of 100-byte fields',
	  client => sub ($c, $meanwhile) {
		$c->send(frame(HEADERS, END_STREAM, 1, request_block('/hello')));
		for my $i (1 .. 10) {
			$c->send(frame(CONTINUATION, 0, 1,
				       hpack(["x-pad$i", 'p' x 100])))
				or last;
		}
		$meanwhile->();
	  },
	  goaway => ENHANCE_YOUR_CALM,
	  counters => { flood_continuation => 1 } },

	{ name => 'CONTINUATION flood: a request in 1-byte CONTINUATIONs',
	  client => sub ($c, $meanwhile) {
		$c->send(header_frames(1, END_STREAM, request_block('/hello'),
				       1));
		$meanwhile->();
	  },
	  goaway => ENHANCE_YOUR_CALM,
	  counters => { flood_continuation => 1 } },

	{ name => 'HPACK bomb: a 4000-byte field indexed, then referenced '
		  . '100 times: 431, the connection goes on',
	  client => sub ($c, $meanwhile) {
		$c->send(request(1, '/hello', ['x-bomb', 'b' x 4000, 'index'],
				 (62) x 100));
		$c->wait_status(1);
		$meanwhile->();
		$c->send($hello->(3));
	  },
	  status => { 1 => [431], 3 => [200] },
	  counters => { err_header_list => 1, status_4xx => 1 } },

	{ name => 'a 9000-byte header list (max_header_list 8192): 431',
	  client => sub ($c, $meanwhile) {
		$c->send(request(1, '/hello', ['x-big', 'b' x 9000]));
		$c->wait_status(1);
		$c->send($hello->(3));
	  },
	  status => { 1 => [431], 3 => [200] },
	  counters => { err_header_list => 1, status_4xx => 1 } },

	{ name => '30 fields (max_headers 20): 431',
	  client => sub ($c, $meanwhile) {
		$c->send(request(1, '/hello', map { ["x-f$_", $_] } 1 .. 30));
		$c->wait_status(1);
		$c->send($hello->(3));
	  },
	  status => { 1 => [431], 3 => [200] },
	  counters => { err_header_list => 1, status_4xx => 1 } },

	{ name => 'HPACK: a reference past the dynamic table',
	  client => sub ($c, $meanwhile) {
		$c->send(request(1, '/hello', 70));
	  },
	  goaway => COMPRESSION_ERROR, counters => { err_compression => 1 } },

	{ name => 'SETTINGS flood: 100 SETTINGS',
	  client => sub ($c, $meanwhile) {
		$c->send(frame(SETTINGS, 0, 0) x 100);
		$meanwhile->();
	  },
	  goaway => ENHANCE_YOUR_CALM, counters => { flood_settings => 1 } },

	{ name => 'PING flood: 100 PINGs',
	  client => sub ($c, $meanwhile) {
		$c->send(map { frame(PING, 0, 0, pack 'NN', 0, $_) } 1 .. 100);
		$meanwhile->();
	  },
	  goaway => ENHANCE_YOUR_CALM, counters => { flood_ping => 1 } },

	{ name => 'ACK flood: 15 SETTINGS and 17 PINGs in one write (each '
		  . 'under its rate, their ACKs over max_outbound_ack)',
	  client => sub ($c, $meanwhile) {
		$c->send((frame(SETTINGS, 0, 0) x 15),
			 map { frame(PING, 0, 0, pack 'NN', 0, $_) } 1 .. 17);
		$meanwhile->();
	  },
	  goaway => ENHANCE_YOUR_CALM, counters => { flood_ack => 1 } },

	{ name => 'empty DATA frames flood on a request stream',
	  client => sub ($c, $meanwhile) {
		$c->send(frame(HEADERS, END_HEADERS, 1,
			       request_block('POST /upload')));
		$c->send(frame(DATA, 0, 1) x 100);
		$meanwhile->();
	  },
	  goaway => ENHANCE_YOUR_CALM, counters => { flood_empty_data => 1 } },

	{ name => 'WINDOW_UPDATE flood: 100 increments of 1',
	  client => sub ($c, $meanwhile) {
		$c->send(frame(WINDOW_UPDATE, 0, 0, pack 'N', 1) x 100);
		$meanwhile->();
	  },
	  goaway => ENHANCE_YOUR_CALM,
	  counters => { flood_window_update => 1 } },

	{ name => 'WINDOW_UPDATE: the connection window over 2^31-1',
	  client => sub ($c, $meanwhile) {
		$c->send(frame(WINDOW_UPDATE, 0, 0, pack 'N', 0x7fffffff));
	  },
	  goaway => FLOW_CONTROL_ERROR, counters => { err_flow_control => 1 } },

	{ name => 'WINDOW_UPDATE: a stream window over 2^31-1: the stream '
		  . 'is reset, the connection goes on',
	  client => sub ($c, $meanwhile) {
		$c->send(frame(HEADERS, END_HEADERS, 1,
			       request_block('POST /upload')),
			 frame(WINDOW_UPDATE, 0, 1, pack 'N', 0x7fffffff));
		$c->read_until(sub { defined $c->{rst}{1} }, 3);
		$c->send($hello->(3));
	  },
	  rst => { 1 => FLOW_CONTROL_ERROR }, status => { 3 => [200] },
	  counters => { err_flow_control => 1, resets_sent => 1 } },

	{ name => 'WINDOW_UPDATE of 0 on the connection',
	  client => sub ($c, $meanwhile) {
		$c->send(frame(WINDOW_UPDATE, 0, 0, pack 'N', 0));
	  },
	  goaway => PROTOCOL_ERROR, counters => { err_protocol => 1 } },

	# (RFC 9113 6.9 allows a stream error; nghttp2 ends the connection.)
	{ name => 'WINDOW_UPDATE of 0 on an open stream',
	  client => sub ($c, $meanwhile) {
		$c->send(frame(HEADERS, END_HEADERS, 1,
			       request_block('POST /upload')),
			 frame(WINDOW_UPDATE, 0, 1, pack 'N', 0));
	  },
	  goaway => PROTOCOL_ERROR, counters => { err_protocol => 1 } },

	{ name => 'a request on an even (server) stream id',
	  client => sub ($c, $meanwhile) { $c->send($hello->(2)) },
	  goaway => PROTOCOL_ERROR, counters => { err_protocol => 1 } },

	# RFC 9113 5.1.1 asks for PROTOCOL_ERROR. nghttp2 ignores HEADERS on
	# any stream it no longer knows (it cannot tell them from trailers
	# sent before our RST_STREAM arrived): not served, and no cost.
	{ name => 'a stream id lower than the previous one: ignored',
	  client => sub ($c, $meanwhile) {
		$c->send($hello->(5));
		$c->wait_status(5);
		$c->send($hello->(3), $hello->(7));
	  },
	  status => { 5 => [200], 7 => [200] }, counters => {} },

	{ name => 'HEADERS again on a stream that was answered: ignored',
	  client => sub ($c, $meanwhile) {
		$c->send($hello->(1));
		$c->wait_status(1);
		$c->send($hello->(1), $hello->(3));
	  },
	  status => { 1 => [200], 3 => [200] }, counters => {} },

	{ name => 'HEADERS again on a half-closed stream (its answer pending)',
	  client => sub ($c, $meanwhile) {
		$c->send(request(1, '/slow'), request(1, '/hello'));
	  },
	  goaway => STREAM_CLOSED, counters => { err_protocol => 1 } },

	{ name => 'DATA on an idle stream',
	  client => sub ($c, $meanwhile) {
		$c->send(frame(DATA, END_STREAM, 9, 'x'));
	  },
	  goaway => PROTOCOL_ERROR, counters => { err_protocol => 1 } },

	{ name => 'empty DATA frames flood on a closed stream',
	  client => sub ($c, $meanwhile) {
		$c->send($hello->(1));
		$c->wait_status(1);
		$c->send(frame(DATA, 0, 1) x 100);
		$meanwhile->();
	  },
	  goaway => ENHANCE_YOUR_CALM, counters => { flood_empty_data => 1 } },

	{ name => 'WINDOW_UPDATE flood on a closed stream',
	  client => sub ($c, $meanwhile) {
		$c->send($hello->(1));
		$c->wait_status(1);
		$c->send(frame(WINDOW_UPDATE, 0, 1, pack 'N', 1) x 100);
		$meanwhile->();
	  },
	  goaway => ENHANCE_YOUR_CALM,
	  counters => { flood_window_update => 1 } },

	{ name => 'MadeYouReset: 60 requests the server must reset',
	  client => sub ($c, $meanwhile) {
		for my $i (0 .. 59) {
			my $sid = 2 * $i + 1;
			$c->send(frame(HEADERS, END_HEADERS, $sid,
				       request_block('POST /upload')),
				 frame(WINDOW_UPDATE, 0, $sid,
				       pack 'N', 0x7fffffff)) or last;
			$meanwhile->() if $i % 20 == 10;
		}
	  },
	  goaway => ENHANCE_YOUR_CALM,
	  counters => { flood_rst => 1, err_flow_control => [21, 30],
			resets_sent => [21, 30] } },

	{ name => 'a frame over max_frame_size',
	  client => sub ($c, $meanwhile) {
		$c->send(frame(HEADERS, END_HEADERS, 1,
			       request_block('POST /upload')),
			 frame(DATA, 0, 1, 'x' x 20000));
	  },
	  goaway => FRAME_SIZE_ERROR, counters => { err_protocol => 1 } },

	{ name => 'CONTINUATION with no HEADERS before it',
	  client => sub ($c, $meanwhile) {
		$c->send(frame(CONTINUATION, END_HEADERS, 1,
			       request_block('/hello')));
	  },
	  goaway => PROTOCOL_ERROR, counters => { err_protocol => 1 } },

	(map {
		my ($what, $f) = @$_;
		+{ name => $what,
		  client => sub ($c, $meanwhile) { $c->send($f) },
		  goaway => PROTOCOL_ERROR,
		  counters => { err_protocol => 1 } }
	} ['DATA on stream 0', frame(DATA, 0, 0, 'x')],
	  ['HEADERS on stream 0', frame(HEADERS, END_STREAM | END_HEADERS, 0,
				       request_block('/hello'))],
	  ['RST_STREAM on stream 0', frame(RST_STREAM, 0, 0, pack 'N', CANCEL)],
	  ['PRIORITY on stream 0', frame(PRIORITY, 0, 0, pack 'NC', 1, 15)],
	  ['SETTINGS on stream 1', frame(SETTINGS, 0, 1)],
	  ['PING on stream 1', frame(PING, 0, 1, 'x' x 8)]),
);

# The h2 counters a case must move as it says, and only those.
my $WATCHED = qr/\A(?:err_\w+|flood_\w+|timeout_\w+|goaway_sent|resets_sent
		  |refused_streams|nomem|app_error|status_[45]xx)\z/x;

# The client side of case $i, in the client namespace: the legitimate
# connection (from $lport) makes a request before the attacker (from
# $aport) connects, whenever the attack calls $meanwhile, and after it.
sub client($i, $lport, $aport) {
	my $case = $CASES[$i];
	my $legit = Perigee::H2Raw->new(lport => $lport);
	my ($sid, @served) = (-1);
	my $meanwhile = sub {
		$legit->send(request($sid += 2, '/hello'));
		push @served, $legit->wait_status($sid) // 'none';
	};
	$meanwhile->();
	my $c = Perigee::H2Raw->new(lport => $aport);
	$case->{client}->($c, $meanwhile);
	if (defined $case->{goaway}) {
		$c->wait_end(3);
	} else {
		my @sids = (keys %{ $case->{status} // {} },
			    keys %{ $case->{rst} // {} });
		$c->read_until(sub { !grep { !$c->{status}{$_}
					     && !defined $c->{rst}{$_} } @sids },
			       3);
		$c->read_until(sub { 0 }, 0.1);    # anything more it says
	}
	$meanwhile->();
	return { attacker => $c->summary, served => \@served };
}
Perigee::H2Raw::client_main(\&client);

# --- the server side ---------------------------------------------------------

my $lab = Perigee::Test->new(workers => [0, 1]);
my $app = $lab->dir . '/app.lua';
open(my $f, '>', $app) or die "$app: $!";
print $f <<'EOF';
local perigee = require("perigee")
local app = perigee.app()
app:get("/hello", function(req, res) return res:send("hello") end)
app:get("/slow", function(req, res)
  perigee.sleep(0.5)
  return res:send("slow")
end)
app:post("/upload", function(req, res)
  return res:send(tostring(#req:body()))
end)
return app
EOF
close($f);
$lab->write_conf({ app => $app, listen => [PORT], http2 => {
	rst_burst => 20, rst_rate => 5, max_continuations => 4,
	settings_rate => 20, ping_rate => 20, max_outbound_ack => 30,
	empty_data_rate => 20, window_update_rate => 20,
	max_header_list => 8192, max_headers => 20 } });
$lab->start_ok;

# Every h2 counter, summed over the workers.
sub h2_counters() {
	my $st = $lab->status or return {};
	return { map { $_ => total($st, "h2.$_") }
		 keys %{ $st->{workers}[0]{h2} } };
}

# Did the server stop the attacker as the case says? $d: the counters'
# changes.
sub stopped_ok($case, $atk, $d) {
	my $ok = 1;
	if (defined(my $want = $case->{goaway})) {
		my $got = $atk->{goaway} ? error_name($atk->{goaway}{code})
					 : 'none';
		$ok &= is($got, error_name($want), 'GOAWAY ' . error_name($want));
		$ok &= like($atk->{end} // 'open', qr/\A(?:eof|reset)\z/,
			    'then the connection ends');
	} else {
		$ok &= is($atk->{goaway}, undef, 'no GOAWAY');
		$ok &= is($atk->{end}, undef, 'the connection stays open');
	}
	# (Before a GOAWAY, what the streams got depends on how the attack
	# was cut into segments: checked when the case says.)
	for my $k (grep { $case->{$_} || !defined $case->{goaway} }
		   qw(status rst)) {
		$ok &= is_deeply($atk->{$k}, $case->{$k} // {}, "$k by stream");
	}
	my %want = (%{ $case->{counters} },
		    defined $case->{goaway} ? (goaway_sent => 1) : ());
	my %got = map { $_ => $d->{$_} } grep { /$WATCHED/ } keys %$d;
	my @off = grep {
		my ($w, $g) = ($want{$_} // 0, $got{$_} // 0);
		ref $w ? $g < $w->[0] || $g > $w->[1] : $g != $w;
	} sort keys %{ { %want, %got } };
	$ok &= ok(!@off, 'counters: ' . join(', ', map {
		ref $want{$_} ? "$_ +$want{$_}[0]..$want{$_}[1]"
			      : "$_ +$want{$_}" } sort keys %want))
		or diag(join ', ', map { "$_ +" . ($got{$_} // 0) } @off);
	return $ok;
}

sub check_case($i) {
	my $case = $CASES[$i];
	my $before = h2_counters();
	my $r = Perigee::H2Raw::run_client($lab, $i,
					   steered_ports($lab, PORT, 0, 2));
	my $d = delta($before, h2_counters());
	if ($r->{error}) {
		fail('the client ran');
		return diag($r->{error});
	}
	my $stopped = do {
		local $TODO = $case->{todo};
		stopped_ok($case, $r->{attacker}, $d);
	};
	diag(explain($r->{attacker})) unless $stopped || $case->{todo};
	my @served = @{ $r->{served} };
	ok(@served >= 2 && !grep({ $_ ne '200' } @served),
	   'the legitimate connection was served throughout')
		or diag("legitimate answers: @served");
}

for my $i (0 .. $#CASES) {
	subtest $CASES[$i]{name} => sub { check_case($i) };
}

ok($lab->stop, 'perigee stop');
done_testing;
