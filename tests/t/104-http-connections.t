# HTTP/1.1 connections on the real server: keep-alive reuse (HTTP/1.1
# and HTTP/1.0 with Connection: keep-alive), Connection: close from the
# client, pipelining of several requests (with Content-Length and chunked
# bodies, a slow handler first, a failing handler, a body the handler
# never reads) answered in order, the keep-alive timeout, the requests per
# connection limit (http.max_requests), the connections per worker limits
# (http.max_conns: reset after the handshake; tcp.max_conns: the SYN is
# dropped) while the earlier connections are still served, and slowloris
# (a head dribbled one byte at a time gets 408 after header_timeout_ms,
# then the close). (Perigee::HttpTest: one block per connection; timings
# are checked with generous windows, another test may share the CPUs.)
use v5.36;
use lib 'tests/lib';
use Perigee::HttpTest;

Perigee::HttpTest::run();

__DATA__

=== TEST 1: two requests one after the other on one connection
--- app
local app = require("perigee").app()
app:get("/a", function(req, res) return res:send("A " .. req.remote_port) end)
app:get("/b", function(req, res) return res:send("B " .. req.remote_port) end)
return app
--- raw_request eval
["GET /a HTTP/1.1\r\nHost: x\r\n\r\n",
 "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]
--- raw_request_middle_delay: 0.3
--- error_code: 200
--- raw_response_like
\AHTTP/1\.1 200 OK\r\n(?:(?!Connection: close\r\n)[^\r\n]+\r\n)*\r\nA (\d+)HTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*Connection: close\r\n(?:[^\r\n]+\r\n)*\r\nB \1\z
--- connection_end: eof 0 3
--- status_delta
http.conns: 1
http.requests: 2
http.keepalive_reuse: 1
http.timeout_keepalive: 0

=== TEST 2: HTTP/1.0 with Connection: keep-alive keeps the connection
--- app
local app = require("perigee").app()
app:get("/a", function(req, res) return res:send("A " .. req.http_version) end)
app:get("/b", function(req, res) return res:send("B " .. req.http_version) end)
return app
--- raw_request eval
["GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
 "GET /b HTTP/1.0\r\n\r\n"]
--- raw_request_middle_delay: 0.3
--- raw_response_like
\AHTTP/1\.[01] 200 OK\r\n(?:[^\r\n]+\r\n)*Connection: keep-alive\r\n(?:[^\r\n]+\r\n)*\r\nA 1\.0HTTP/1\.[01] 200 OK\r\n(?:(?!Connection: keep-alive\r\n)[^\r\n]+\r\n)*\r\nB 1\.0\z
--- connection_end: eof 0 3
--- status_delta
http.conns: 1
http.keepalive_reuse: 1

=== TEST 3: Connection: close from the client: the answer says so, then EOF; nothing after it is answered
--- app
local app = require("perigee").app()
app:get("/a", function(req, res) return res:send("A") end)
app:get("/b", function(req, res) return res:send("B") end)
return app
--- raw_request eval
"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
--- error_code: 200
--- response_headers
Connection: close
--- raw_response_like
\AHTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*\r\nA\z
--- connection_end: eof 0 3
--- status_delta
http.requests: 1

=== TEST 4: four pipelined requests, a slow one first and two with bodies, answered in order
--- app
local perigee = require("perigee")
local app = perigee.app()
app:get("/slow", function(req, res)
  perigee.sleep(0.3)
  return res:send("slow;")
end)
app:post("/echo", function(req, res) return res:send("echo " .. req:body() .. ";") end)
app:get("/a", function(req, res) return res:send("a;") end)
return app
--- raw_request eval
"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
. "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
. "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
. "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
--- error_code: 200
--- raw_response_like
\AHTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*\r\nslow;HTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*\r\necho hello;HTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*\r\necho abcde;HTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*\r\na;\z
--- connection_end: eof
--- status_delta
http.conns: 1
http.requests: 4
http.responses: 4

=== TEST 5: a failing handler does not cost the pipelined request behind it
--- app
local app = require("perigee").app()
app:get("/boom", function(req, res) error("kaboom") end)
app:get("/a", function(req, res) return res:send("a") end)
return app
--- raw_request eval
"GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
--- error_code: 500
--- raw_response_like
\AHTTP/1\.1 500 [^\r]*\r\n(?:[^\r\n]+\r\n)*\r\n500 Internal Server Error\nrequest id: [^\n]+\nHTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*\r\na\z
--- connection_end: eof
--- error_log
kaboom

=== TEST 6: a body the handler never reads is skipped, even when it looks like a request
--- app
local app = require("perigee").app()
app:post("/ignore", function(req, res) return res:send("ignored;") end)
app:get("/a", function(req, res) return res:send("a;") end)
app:get("/smuggled", function(req, res) return res:send("SMUGGLED;") end)
return app
--- raw_request eval
my $inner = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
"POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: " . length($inner) . "\r\n\r\n$inner"
. "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
--- error_code: 200
--- raw_response_like
\AHTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*\r\nignored;HTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*\r\na;\z
--- connection_end: eof
--- status_delta
http.requests: 2

=== TEST 7: two pipelined answers in one TCP segment, the first with a head of odd length, arrive intact
--- app
local app = require("perigee").app()
app:get("/len/:n", function(req, res) return res:send(("x"):rep(tonumber(req.params.n))) end)
return app
--- raw_request eval
"GET /len/51 HTTP/1.1\r\nHost: x\r\n\r\nGET /len/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
--- error_code: 200
--- raw_response_like
\AHTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*Content-Length: 51\r\n(?:[^\r\n]+\r\n)*\r\nx{51}HTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*\r\nx\z
--- connection_end: eof

=== TEST 8: an idle keep-alive connection is closed after keepalive_timeout_ms
--- config
http = { keepalive_timeout_ms = 1000, header_timeout_ms = 1000, max_requests = 2 },
--- app
local app = require("perigee").app()
app:get("/a", function(req, res) return res:send("a") end)
return app
--- raw_request eval
"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
--- error_code: 200
--- response_headers
!Connection
--- raw_response_like
\AHTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*\r\na\z
--- connection_end: eof 0.9 4
--- status_delta
http.timeout_keepalive: 1

=== TEST 9: max_requests: the last allowed answer says Connection: close, the next request is not answered
--- config
http = { keepalive_timeout_ms = 1000, header_timeout_ms = 1000, max_requests = 2 },
--- app
local app = require("perigee").app()
app:get("/a", function(req, res) return res:send("a;") end)
app:get("/b", function(req, res) return res:send("b;") end)
app:get("/c", function(req, res) return res:send("c;") end)
return app
--- raw_request eval
"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n"
--- error_code: 200
--- raw_response_like
\AHTTP/1\.1 200 OK\r\n(?:(?!Connection: close\r\n)[^\r\n]+\r\n)*\r\na;HTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*Connection: close\r\n(?:[^\r\n]+\r\n)*\r\nb;\z
--- connection_end: closed
--- status_delta
http.requests: 2
http.timeout_keepalive: 0

=== TEST 10: slowloris: a head dribbled one byte at a time gets 408 after header_timeout_ms, then the close
--- config
http = { keepalive_timeout_ms = 1000, header_timeout_ms = 1000, max_requests = 2 },
--- app
local app = require("perigee").app()
app:get("/a", function(req, res) return res:send("a") end)
return app
--- raw_request eval
[split //, "GET /a HTTP/1.1\r\nHost: x\r\nX-Slow: " . ("s" x 30) . "\r\n\r\n"]
--- raw_request_middle_delay: 0.1
--- error_code: 408
--- raw_response_like
\AHTTP/1\.1 408 [^\r]*\r\n(?:[^\r\n]+\r\n)*Connection: close\r\n(?:[^\r\n]+\r\n)*\r\n408 [^\n]+\n\z
--- connection_end: closed 0.9 3
--- status_delta
http.timeout_header: 1
http.requests: 0

=== TEST 11: http.max_conns: a connection over the limit is reset (over TLS: closed after the handshake), the ones before it are served
--- config
http = { max_conns = 2 },
--- app
local app = require("perigee").app()
app:get("/a", function(req, res) return res:send("still served") end)
return app
--- held_connections: 2
--- held_request eval
"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
--- held_response_like
\AHTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*\r\nstill served\z
--- raw_request eval
"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
--- raw_response_like
\A\z
--- connection_end: reset
--- connection_end tls: closed
--- status_delta
http.conn_limit: 1
http.conns: 2
http.requests: 2

=== TEST 12: tcp.max_conns: a SYN over the limit is dropped, the connections before it are served
--- config
tcp = { max_conns = 2 },
--- app
local app = require("perigee").app()
app:get("/a", function(req, res) return res:send("still served") end)
return app
--- held_connections: 2
--- held_request eval
"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
--- held_response_like
\AHTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*\r\nstill served\z
--- raw_request eval
"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
--- timeout: 0.8
--- connection_end: refused
--- status_delta
tcp.conn_limit: 1
drops.tcp_conn_limit: 1
http.requests: 2
