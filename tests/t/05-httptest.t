# Perigee::HttpTest reads its blocks as Test::Nginx users expect: names,
# sections with inline values and modifiers, ONLY/SKIP markers, trailing
# blank lines dropped, chomp honoured; and picks a block's transport, its
# sections for that transport, its skips, and the counters it reads.
# (The server-side behaviour is in the .t files that use it.)
use v5.36;
use lib 'tests/lib';
use Test::More;
use Perigee::HttpTest;

my $text = do { local $/; <DATA> };
my @b = Perigee::HttpTest::parse_blocks($text);
is(scalar @b, 6, 'six blocks');
is_deeply([map { [$_->{n}, $_->{name}] } @b],
	  [[1, 'hello'], [2, 'raw bytes'], [7, 'last one'],
	   [8, 'qualified sections'], [9, 'over TLS'], [10, 'raw']],
	  'numbers and names');
my $s = $b[0]{sections};
is($s->{app}{value}, "local app = 1\nreturn app\n", 'app: lines kept');
is($s->{request}{value}, "GET /hello\n", 'request');
is($s->{error_code}{value}, '200', 'inline value');
is($s->{response_body}{value}, 'hi', 'chomp drops the final newline');
is_deeply($s->{response_body}{mods}, ['chomp'], 'modifiers');
is($s->{more_headers}{value}, "X-A: 1\nX-B: 2\n", 'trailing blank lines dropped');
ok($b[1]{sections}{ONLY}, 'ONLY marker');
is_deeply($b[1]{sections}{raw_request}{mods}, ['eval'], 'eval modifier');
ok($b[2]{sections}{SKIP}, 'SKIP marker');
is($b[2]{sections}{response_body}{value}, '2 words here',
   'an inline value keeps every word');

# Transports.
is_deeply([Perigee::HttpTest::transports_named('http2')], ['h2c', 'h2tls'],
	  'http2 names h2c and h2tls');
is_deeply([Perigee::HttpTest::transports_named('tls')], ['h1tls', 'h2tls'],
	  'tls names h1tls and h2tls');
is_deeply([Perigee::HttpTest::transports_named('h1')], ['h1'],
	  'a transport names itself');
is_deeply([Perigee::HttpTest::transports_named('chomp')], [],
	  'a modifier names none');
my ($q, $tls, $raw) = @b[3 .. 5];
my %over = map { $_ => Perigee::HttpTest::block_transport($q, $_) }
	qw(h1 h2c h1tls h2tls);
is_deeply(\%over, { h1 => 'h2c', h2c => 'h2c', h1tls => 'h2tls',
		    h2tls => 'h2tls' }, '--- http2 adds HTTP/2 to the run');
is(Perigee::HttpTest::block_transport($tls, 'h2c'), 'h2tls',
   '--- tls adds TLS to the run');
is($q->{sections}{response_body}{value}, "1.1\n",
   'a section without a transport');
is_deeply([sort keys %{ $q->{on} }], ['h2c', 'h2tls'],
	  'a qualified section is filed under its transports');
is($q->{on}{h2tls}{response_body}{value}, '2', 'modifiers and qualifier');
is($q->{on}{h2c}{error_code}{value}, '201', 'an inline qualified value');
is($q->{sections}{error_code}{value}, '200', 'beside the plain one');
for my $t (qw(h1 h2c h1tls h2tls)) {
	local $q->{transport} = $t;
	is(Perigee::HttpTest::skip_reason($q),
	   $t eq 'h2c' ? 'not over h2c: curl cannot do that here' : undef,
	   "skip_transport over $t");
	local $raw->{transport} = $t;
	like(Perigee::HttpTest::skip_reason($raw) // '',
	     $t =~ /\Ah2/ ? qr/raw_request bytes are HTTP\/1\.1/
			  : qr/\A(?:.*IO::Socket::SSL is not installed)?\z/,
	     "raw_request over $t");
	my @f = map { $_->[2] } Perigee::HttpTest::status_fields($raw);
	is_deeply(\@f, $t =~ /\Ah2/ ? ['h2.status_4xx', 'tcp.conns']
			      : ['http.status_4xx', 'tcp.conns'],
		  "status_delta read over $t");
}
done_testing;

__DATA__

=== TEST 1: hello
--- app
local app = 1
return app
--- request
GET /hello
--- more_headers
X-A: 1
X-B: 2


--- error_code: 200
--- response_body chomp
hi

=== TEST 2: raw bytes
--- ONLY
--- raw_request eval
"GET / HTTP/1.1\r\n\r\n"
--- error_code: 400

=== TEST 7: last one
--- SKIP
--- request
GET /
--- response_body: 2 words here

=== TEST 8: qualified sections
--- http2
--- skip_transport: h2c curl cannot do that here
--- request
GET /v
--- error_code: 200
--- error_code h2c: 201
--- response_body
1.1
--- response_body chomp http2
2

=== TEST 9: over TLS
--- tls
--- request
GET /

=== TEST 10: raw
--- raw_request
GET / HTTP/1.1
--- status_delta
http.status_4xx: 1
tcp.conns: 1
