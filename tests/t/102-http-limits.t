# The limits of `http = { ... }` set small and hit on the real server:
# 414, 431 by size and by count, 413 by Content-Length and by a chunked
# body, 408 for a head or a body that stops coming; each refusal counted
# in `perigee status` under its reason, and every response a line of the
# access log (the scanner refuses a request line or a header section over
# its limit before the parser reads it: method and target are "-").
# (Perigee::HttpTest: one block per request.)
use v5.36;
use lib 'tests/lib';
use Perigee::HttpTest;

Perigee::HttpTest::run();

__DATA__

=== TEST 1: a request within the limits
--- config
http = { max_request_line = 64, max_header_bytes = 256, max_headers = 8,
         max_body = 100, header_timeout_ms = 1000, body_timeout_ms = 1000 },
log = { access = "@DIR@/access.log" },
--- app
local app = require("perigee").app()
app:get("/hello", function(req, res) return res:send("hello\n") end)
app:post("/echo", function(req, res) return res:send(req:body()) end)
return app
--- request
GET /hello?x=1
--- error_code: 200
--- response_body
hello
--- status_delta
http.requests: 1
http.responses: 1
http.status_2xx: 1
--- access_log
^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z w\d-[0-9a-f]{8} 198\.18\.0\.1 GET /hello\?x=1 200 \d+ \d+\.\d{3}$

=== TEST 2: a body within the limit is echoed
--- config
http = { max_request_line = 64, max_header_bytes = 256, max_headers = 8,
         max_body = 100, header_timeout_ms = 1000, body_timeout_ms = 1000 },
log = { access = "@DIR@/access.log" },
--- app
local app = require("perigee").app()
app:get("/hello", function(req, res) return res:send("hello\n") end)
app:post("/echo", function(req, res) return res:send(req:body()) end)
return app
--- request
POST /echo
0123456789
--- error_code: 200
--- response_body
0123456789
--- access_log
 w\d-[0-9a-f]{8} 198\.18\.0\.1 POST /echo 200 \d+ 

=== TEST 3: a request line over max_request_line is 414
--- config
http = { max_request_line = 64, max_header_bytes = 256, max_headers = 8,
         max_body = 100, header_timeout_ms = 1000, body_timeout_ms = 1000 },
log = { access = "@DIR@/access.log" },
--- app
local app = require("perigee").app()
app:get("/hello", function(req, res) return res:send("hello\n") end)
app:post("/echo", function(req, res) return res:send(req:body()) end)
return app
--- raw_request eval
"GET /hello?" . ("a" x 80) . " HTTP/1.1\r\nHost: x\r\n\r\n"
--- error_code: 414
--- raw_response_like
Connection: close
--- status_delta
http.err_uri_too_long: 1
http.status_4xx: 1
http.requests: 0
--- access_log
Z - 198\.18\.0\.1 - - 414 \d+ \d+\.\d{3}$

=== TEST 4: a header section over max_header_bytes is 431
--- config
http = { max_request_line = 64, max_header_bytes = 256, max_headers = 8,
         max_body = 100, header_timeout_ms = 1000, body_timeout_ms = 1000 },
log = { access = "@DIR@/access.log" },
--- app
local app = require("perigee").app()
app:get("/hello", function(req, res) return res:send("hello\n") end)
app:post("/echo", function(req, res) return res:send(req:body()) end)
return app
--- raw_request eval
"GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " . ("b" x 300) . "\r\n\r\n"
--- error_code: 431
--- status_delta
http.err_header_size: 1
http.status_4xx: 1
--- access_log
Z - 198\.18\.0\.1 - - 431 \d+ 

=== TEST 5: more fields than max_headers is 431
--- config
http = { max_request_line = 64, max_header_bytes = 256, max_headers = 8,
         max_body = 100, header_timeout_ms = 1000, body_timeout_ms = 1000 },
log = { access = "@DIR@/access.log" },
--- app
local app = require("perigee").app()
app:get("/hello", function(req, res) return res:send("hello\n") end)
app:post("/echo", function(req, res) return res:send(req:body()) end)
return app
--- raw_request eval
"GET /hello HTTP/1.1\r\nHost: x\r\n" . join('', map { "X-$_: $_\r\n" } 1 .. 10) . "\r\n"
--- error_code: 431
--- status_delta
http.err_header_count: 1
http.err_header_size: 0

=== TEST 6: a declared Content-Length over max_body is 413
--- config
http = { max_request_line = 64, max_header_bytes = 256, max_headers = 8,
         max_body = 100, header_timeout_ms = 1000, body_timeout_ms = 1000 },
log = { access = "@DIR@/access.log" },
--- app
local app = require("perigee").app()
app:get("/hello", function(req, res) return res:send("hello\n") end)
app:post("/echo", function(req, res) return res:send(req:body()) end)
return app
--- raw_request eval
"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
--- error_code: 413
--- status_delta
http.err_body_size: 1
http.requests: 0
--- access_log
Z - 198\.18\.0\.1 POST /echo 413 

=== TEST 7: a chunked body growing over max_body is 413
--- config
http = { max_request_line = 64, max_header_bytes = 256, max_headers = 8,
         max_body = 100, header_timeout_ms = 1000, body_timeout_ms = 1000 },
log = { access = "@DIR@/access.log" },
--- app
local app = require("perigee").app()
app:get("/hello", function(req, res) return res:send("hello\n") end)
app:post("/echo", function(req, res) return res:send(req:body()) end)
return app
--- raw_request eval
"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
. "40\r\n" . ("c" x 64) . "\r\n40\r\n" . ("d" x 64) . "\r\n0\r\n\r\n"
--- error_code: 413
--- status_delta
http.err_body_size: 1
http.requests: 1
--- access_log
 w\d-[0-9a-f]{8} 198\.18\.0\.1 POST /echo 413 

=== TEST 8: a head that stops coming is 408 after header_timeout_ms
--- config
http = { max_request_line = 64, max_header_bytes = 256, max_headers = 8,
         max_body = 100, header_timeout_ms = 1000, body_timeout_ms = 1000 },
log = { access = "@DIR@/access.log" },
--- app
local app = require("perigee").app()
app:get("/hello", function(req, res) return res:send("hello\n") end)
app:post("/echo", function(req, res) return res:send(req:body()) end)
return app
--- raw_request eval
"GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n"
--- error_code: 408
--- status_delta
http.timeout_header: 1
--- access_log
Z - 198\.18\.0\.1 GET /hello 408 \d+ (?:9\d\d|1\d\d\d)\.\d{3}$

=== TEST 9: a body that stops coming is 408 after body_timeout_ms
--- config
http = { max_request_line = 64, max_header_bytes = 256, max_headers = 8,
         max_body = 100, header_timeout_ms = 1000, body_timeout_ms = 1000 },
log = { access = "@DIR@/access.log" },
--- app
local app = require("perigee").app()
app:get("/hello", function(req, res) return res:send("hello\n") end)
app:post("/echo", function(req, res) return res:send(req:body()) end)
return app
--- raw_request eval
"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n0123456789"
--- error_code: 408
--- status_delta
http.timeout_body: 1
http.requests: 1
--- no_error_log
[error]
