package Perigee::H2Raw;

# A raw HTTP/2 client for tests that misbehave on purpose: it writes any
# frame, encodes header blocks with a minimal HPACK (literals without
# Huffman, indexed fields), and reads frames back with a timeout, keeping
# what the server said: the :status and RST_STREAM of each stream, GOAWAY,
# and how the connection ended.
#
#   my $c = Perigee::H2Raw->new(port => 8080);   # preface and SETTINGS
#   $c->send(request(1, '/hello'));
#   is($c->wait_status(1), 200);
#   $c->send(frame(PING, 0, 0, 'x' x 8) x 100);
#   $c->wait_end;                                 # GOAWAY, then EOF
#   is($c->{goaway}{code}, ENHANCE_YOUR_CALM);
#
# The client announces a header table of 0 bytes, so that the server's
# header blocks hold static entries and literals only; of Huffman-coded
# strings only digits decode (enough for :status).
#
# It has to run in the lab's client namespace: a test file that holds the
# client side of its cases calls client_main() at its top and
# run_client($lab, ARGS) to run itself there as such a client (the
# client's answer comes back as JSON).

use v5.36;

use Carp qw(croak);
use Errno ();
use Exporter qw(import);
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(time);

use Perigee::Test qw(steer_owner CLIENT_IP SERVER_IP);

# Error codes (RFC 9113 section 7), by value.
my @ERROR_NAME;
BEGIN {
	@ERROR_NAME = qw(NO_ERROR PROTOCOL_ERROR INTERNAL_ERROR
			 FLOW_CONTROL_ERROR SETTINGS_TIMEOUT STREAM_CLOSED
			 FRAME_SIZE_ERROR REFUSED_STREAM CANCEL
			 COMPRESSION_ERROR CONNECT_ERROR ENHANCE_YOUR_CALM);
}
use constant { map { $ERROR_NAME[$_] => $_ } 0 .. $#ERROR_NAME };
use constant {
	DATA => 0, HEADERS => 1, PRIORITY => 2, RST_STREAM => 3,
	SETTINGS => 4, PUSH_PROMISE => 5, PING => 6, GOAWAY => 7,
	WINDOW_UPDATE => 8, CONTINUATION => 9,
	END_STREAM => 0x1, ACK => 0x1, END_HEADERS => 0x4,
};

our @EXPORT = (qw(frame hpack request_block request header_frames
		  error_name steered_ports
		  DATA HEADERS PRIORITY RST_STREAM SETTINGS PUSH_PROMISE PING
		  GOAWAY WINDOW_UPDATE CONTINUATION END_STREAM ACK END_HEADERS),
	       @ERROR_NAME);

# The name of an error code ("0x1d" for one it does not know).
sub error_name($code) {
	return $ERROR_NAME[$code] // sprintf '0x%x', $code;
}

use constant PREFACE => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
use constant { SETTINGS_HEADER_TABLE_SIZE => 1, SETTINGS_ENABLE_PUSH => 2 };

# --- frames and HPACK -------------------------------------------------------

# One frame: type, flags, stream id, payload.
sub frame($type, $flags, $sid, $payload = '') {
	my $len = length $payload;
	return pack('nCCCN', $len >> 8, $len & 0xff, $type, $flags, $sid)
		. $payload;
}

# An HPACK integer of an N-bit prefix, the first byte's other bits $bits.
sub _int($v, $n, $bits) {
	my $max = (1 << $n) - 1;
	return chr($bits | $v) if $v < $max;
	my $s = chr($bits | $max);
	for ($v -= $max; $v >= 128; $v >>= 7) {
		$s .= chr(($v & 127) | 128);
	}
	return $s . chr($v);
}

sub _str($s) { return _int(length $s, 7, 0) . $s }

# A header block: a number N is the indexed field N (static 1-61, then the
# dynamic table); [name, value] a literal without indexing; [name, value,
# 'index'] a literal with incremental indexing (it enters the table).
sub hpack(@fields) {
	return join '', map {
		!ref $_ ? _int($_, 7, 0x80)
		: ($_->[2] // '') eq 'index'
		? "\x40" . _str($_->[0]) . _str($_->[1])
		: "\x00" . _str($_->[0]) . _str($_->[1])
	} @fields;
}

# The header block of a request: "PATH" is a GET, "METHOD PATH" any other;
# @more (hpack items) follow the pseudo-header fields.
sub request_block($target, @more) {
	my ($method, $path) = $target =~ /\A(\S+)\s+(\S+)\z/ ? ($1, $2)
			      : ('GET', $target);
	return hpack([':method', $method], [':scheme', 'http'],
		     [':authority', SERVER_IP], [':path', $path], @more);
}

# A whole request without a body on stream $sid (HEADERS with END_STREAM
# and END_HEADERS).
sub request($sid, $target, @more) {
	return frame(HEADERS, END_STREAM | END_HEADERS, $sid,
		     request_block($target, @more));
}

# A header block cut in pieces of $size bytes: HEADERS with the first
# (and $flags), CONTINUATIONs with the others, END_HEADERS on the last.
sub header_frames($sid, $flags, $block, $size) {
	my ($first, @more) = $block =~ /(.{1,$size})/gs;
	my @f = ([HEADERS, $flags, $first],
		 map { [CONTINUATION, 0, $_] } @more);
	$f[-1][1] |= END_HEADERS;
	return join '', map { frame($_->[0], $_->[1], $sid, $_->[2]) } @f;
}

# The static table entries a response's :status comes from (RFC 7541
# appendix A); the other names do not matter here.
my %STATIC = (8 => '200', 9 => '204', 10 => '206', 11 => '304', 12 => '400',
	      13 => '404', 14 => '500');

# Huffman codes of the ten digits (RFC 7541 appendix B).
my %DIGIT = ('00000' => 0, '00001' => 1, '00010' => 2, map {
	(sprintf('%06b', 0x19 + $_ - 3) => $_) } 3 .. 9);

sub _huffman_digits($s) {
	my ($out, $cur) = ('', '');
	for my $bit (split //, unpack 'B*', $s) {
		$cur .= $bit;
		if (exists $DIGIT{$cur}) {
			$out .= $DIGIT{$cur};
			$cur = '';
		}
		return undef if length $cur > 7;
	}
	return $cur =~ /\A1*\z/ ? $out : undef;
}

sub _read_int($block, $pos, $n) {
	my $max = (1 << $n) - 1;
	my $v = ord(substr $block, $$pos++, 1) & $max;
	return $v if $v < $max;
	for (my $shift = 0; $$pos < length $block; $shift += 7) {
		my $b = ord substr $block, $$pos++, 1;
		$v += ($b & 127) << $shift;
		return $v unless $b & 128;
	}
	return $v;
}

sub _read_str($block, $pos) {
	my $huffman = ord(substr $block, $$pos, 1) & 0x80;
	my $len = _read_int($block, $pos, 7);
	my $s = substr $block, $$pos, $len;
	$$pos += $len;
	return $huffman ? _huffman_digits($s) : $s;
}

# The :status of a response header block (undef if it has none).
sub _status($block) {
	my $pos = 0;
	while ($pos < length $block) {
		my $b = ord substr $block, $pos, 1;
		if ($b & 0x80) {                        # indexed field
			my $i = _read_int($block, \$pos, 7);
			return $STATIC{$i} if $STATIC{$i};
		} elsif (($b & 0xe0) == 0x20) {         # table size update
			_read_int($block, \$pos, 5);
		} else {                                # literal
			my $i = _read_int($block, \$pos, $b & 0x40 ? 6 : 4);
			my $name = $i ? ($i == 8 ? ':status' : '')
				      : _read_str($block, \$pos);
			my $value = _read_str($block, \$pos);
			return $value if $name eq ':status';
		}
	}
	return undef;
}

# --- a connection -----------------------------------------------------------

# Connect to host (198.18.0.2) port (8080) from lport (any), send the
# client preface and SETTINGS and wait for the server's (it is
# acknowledged, as every SETTINGS). Croaks when that fails.
sub new($class, %o) {
	my $s = IO::Socket::INET->new(PeerAddr => $o{host} // SERVER_IP,
		PeerPort => $o{port} // 8080, Proto => 'tcp', Timeout => 5,
		$o{lport} ? (LocalPort => $o{lport}, ReuseAddr => 1) : ())
		or croak "connect: $!";
	$s->blocking(0);
	my $self = bless { sock => $s, buf => '', status => {}, rst => {},
			   block => {}, log => [] }, $class;
	$self->send(PREFACE . frame(SETTINGS, 0, 0, pack 'nNnN',
				    SETTINGS_HEADER_TABLE_SIZE, 0,
				    SETTINGS_ENABLE_PUSH, 0));
	$self->read_until(sub { $self->{settings} }, 5)
		or croak 'no SETTINGS from the server';
	return $self;
}

# Write frames; false once the server no longer takes them.
sub send($self, @frames) {
	my $data = join '', @frames;
	my $sel = IO::Select->new($self->{sock});
	while (length $data) {
		my $n = syswrite $self->{sock}, $data;
		if (!defined $n) {
			return 0 unless $!{EAGAIN} || $!{EWOULDBLOCK};
			$sel->can_write(5) or return 0;
			next;
		}
		substr($data, 0, $n) = '';
	}
	return 1;
}

# Read and take in frames until $cond->() is true, the connection ends or
# $secs pass. Returns $cond's last value.
sub read_until($self, $cond, $secs = 5) {
	my $sel = IO::Select->new($self->{sock});
	my $deadline = time + $secs;
	while (1) {
		my $v = $cond->();
		return $v if $v || $self->{end};
		my $left = $deadline - time;
		return $v if $left <= 0;
		next unless $sel->can_read($left);
		my $n = sysread $self->{sock}, my $buf, 65536;
		if (!defined $n) {
			next if $!{EAGAIN} || $!{EWOULDBLOCK};
			$self->{end} = $!{ECONNRESET} ? 'reset' : "error: $!";
		} elsif ($n == 0) {
			$self->{end} = 'eof';
		} else {
			$self->{buf} .= $buf;
			$self->_frames;
		}
	}
}

# The final :status of stream $sid once it came, or undef when the stream
# was reset, the connection ended or $secs passed.
sub wait_status($self, $sid, $secs = 5) {
	my $final = sub { my $st = $self->{status}{$sid} // [];
			  @$st && $st->[-1] >= 200 ? $st->[-1] : undef };
	$self->read_until(sub { $final->() || defined $self->{rst}{$sid}
				|| $self->{goaway} }, $secs);
	return $final->();
}

# Read until the connection ends (at most $secs); how it ended: "eof",
# "reset", or "open".
sub wait_end($self, $secs = 5) {
	$self->read_until(sub { 0 }, $secs);
	return $self->{end} // 'open';
}

# What the server said, for a report: goaway { last, code }, status (the
# list of each stream's statuses, interim ones first) and rst by stream,
# end, and the frames received (log: "type/flags/stream/length").
sub summary($self) {
	return { map { $_ => $self->{$_} }
		 qw(goaway status rst end log) };
}

# Take in the complete frames of the buffer.
sub _frames($self) {
	while (length $self->{buf} >= 9) {
		my ($hi, $lo, $type, $flags, $sid) =
			unpack 'nCCCN', $self->{buf};
		my $len = ($hi << 8) | $lo;
		last if length $self->{buf} < 9 + $len;
		my $pay = substr $self->{buf}, 9, $len;
		substr($self->{buf}, 0, 9 + $len) = '';
		$sid &= 0x7fffffff;
		push @{ $self->{log} }, "$type/$flags/$sid/$len"
			if @{ $self->{log} } < 100;
		$self->_frame($type, $flags, $sid, $pay);
	}
}

sub _frame($self, $type, $flags, $sid, $pay) {
	if ($type == SETTINGS && !($flags & ACK)) {
		$self->{settings} = { unpack '(nN)*', $pay };
		$self->send(frame(SETTINGS, ACK, 0));
	} elsif ($type == GOAWAY) {
		my ($last, $code) = unpack 'NN', $pay;
		$self->{goaway} //= { last => $last & 0x7fffffff,
				      code => $code };
	} elsif ($type == RST_STREAM) {
		$self->{rst}{$sid} = unpack 'N', $pay;
	} elsif ($type == HEADERS || $type == CONTINUATION) {
		$self->{block}{$sid} .= $pay;
		return unless $flags & END_HEADERS;
		my $st = _status(delete $self->{block}{$sid});
		push @{ $self->{status}{$sid} }, $st if defined $st;
	}
}

# --- running in the client namespace ----------------------------------------

# Local ports whose connections to SERVER_IP:$port worker $worker of the
# lab's workers owns (the steering of Perigee::Test::steer_owner), from a
# random start so that no 4-tuple of an earlier connection comes back.
sub steered_ports($lab, $port, $worker, $n) {
	my $workers = scalar @{ $lab->config->{workers} };
	my ($p, @ports) = (20000 + int rand 30000);
	for (; @ports < $n; $p++) {
		push @ports, $p if steer_owner(CLIENT_IP, $p, SERVER_IP, $port,
					       $workers) == $worker;
	}
	return @ports;
}

# Run the calling test file in the lab's client namespace as a client
# (`FILE --h2raw ARGS...`, which client_main answers). Returns the decoded
# answer, or { error => why }.
sub run_client($lab, @args) {
	my $r = $lab->ns_exec({ timeout => 30 }, $^X, $0, '--h2raw', @args);
	return { error => "client: exit $r->{rc}\n$r->{err}" } if $r->{rc};
	return eval { JSON::PP::decode_json($r->{out}) }
		// { error => "client: $@$r->{out}\n$r->{err}" };
}

# At the top of such a test file: when it runs as a client, call
# $client->(ARGS...), print what it returns as JSON and exit (without the
# END blocks of the test modules).
sub client_main($client) {
	return unless @ARGV && $ARGV[0] eq '--h2raw';
	$SIG{PIPE} = 'IGNORE';
	my $res = $client->(@ARGV[1 .. $#ARGV]);
	print JSON::PP->new->canonical->encode($res);
	STDOUT->flush;
	POSIX::_exit(0);
}

1;
