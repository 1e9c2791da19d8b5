# Perigee::HttpTest reads its blocks as Test::Nginx users expect: names,
# sections with inline values and modifiers, ONLY/SKIP markers, trailing
# blank lines dropped, chomp honoured. (The server-side behaviour is in
# the .t files that use it.)
use v5.36;
use lib 'tests/lib';
use Test::More;
use Perigee::HttpTest;

my $text = do { local $/; <DATA> };
my @b = Perigee::HttpTest::parse_blocks($text);
is(scalar @b, 3, 'three blocks');
is_deeply([map { [$_->{n}, $_->{name}] } @b],
	  [[1, 'hello'], [2, 'raw bytes'], [7, 'last one']], 'numbers and names');
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
