# HTTP/1.1 served by the Lua application on the real server: routing,
# parameters, JSON, middleware, errors, request bodies, keep-alive and
# pipelining, strict parsing, 100-continue, HEAD and 204. (Perigee::HttpTest:
# one block per request; the blocks that are not HTTP/1.1 bytes run over
# HTTP/2 and TLS too, see 106-108.)
use v5.36;
use lib 'tests/lib';
use Perigee::HttpTest;

Perigee::HttpTest::run();

__DATA__

=== TEST 1: hello
--- app
local app = require("perigee").app()
app:get("/hello", function(req, res) return res:send("hello, world\n") end)
return app
--- request
GET /hello
--- error_code: 200
--- response_headers
Content-Length: 13
--- response_body
hello, world
--- no_error_log
[error]

=== TEST 2: route parameters and JSON
--- app
local app = require("perigee").app()
app:get("/users/:id", function(req, res)
  return res:json({ id = req.params.id, q = req.query.q })
end)
return app
--- request
GET /users/42?q=x
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"(id":"42","q":"x"|q":"x","id":"42")\}$

=== TEST 3: middleware refuses without the token
--- app
local app = require("perigee").app()
app:use(function(req, res, next)
  if req.headers.authorization ~= "Bearer s3cret" then
    return res:status(401):send("no\n")
  end
  return next()
end)
app:get("/private", function(req, res) return res:send("yes\n") end)
return app
--- request
GET /private
--- error_code: 401
--- response_body
no

=== TEST 4: middleware lets the token through
--- app
local app = require("perigee").app()
app:use(function(req, res, next)
  if req.headers.authorization ~= "Bearer s3cret" then
    return res:status(401):send("no\n")
  end
  return next()
end)
app:get("/private", function(req, res) return res:send("yes\n") end)
return app
--- request
GET /private
--- more_headers
Authorization: Bearer s3cret
--- error_code: 200
--- response_body
yes

=== TEST 5: a Lua error is a 500 with the request id, logged
--- app
local app = require("perigee").app()
app:get("/boom", function(req, res) error("kaboom") end)
return app
--- request
GET /boom
--- error_code: 500
--- response_body_like
w\d-
--- error_log
kaboom

=== TEST 6: request body echoed
--- app
local app = require("perigee").app()
app:post("/echo", function(req, res) return res:send(req:body()) end)
return app
--- request
POST /echo
some body bytes
--- error_code: 200
--- response_body
some body bytes

=== TEST 7: unknown route
--- request
GET /nowhere
--- error_code: 404

=== TEST 8: two pipelined requests answered in order
--- app
local app = require("perigee").app()
app:get("/a", function(req, res) return res:send("A") end)
app:get("/b", function(req, res) return res:send("B") end)
return app
--- raw_request eval
"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
--- error_code: 200
--- raw_response_like
\r\n\r\nA.*HTTP/1.1 200 .*\r\n\r\nB$

=== TEST 9: Content-Length with Transfer-Encoding is refused
--- raw_request eval
"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
--- error_code: 400

=== TEST 10: a missing Host is refused
--- raw_request eval
"GET /hello HTTP/1.1\r\n\r\n"
--- error_code: 400

=== TEST 11: a streamed response is chunked
--- app
local app = require("perigee").app()
app:get("/stream", function(req, res)
  for i = 1, 3 do res:write(("part %d\n"):format(i)) end
  return res:finish()
end)
return app
--- request
GET /stream
--- error_code: 200
--- response_headers
Transfer-Encoding: chunked
!Content-Length
--- response_body
part 1
part 2
part 3

=== TEST 12: HEAD answers the headers of GET, without the body
--- app
local app = require("perigee").app()
app:get("/hello", function(req, res) return res:send("hello, world\n") end)
return app
--- raw_request eval
"HEAD /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
--- error_code: 200
--- raw_response_like
\AHTTP/1.1 200 [^\r]*\r\n(?:[^\r]+\r\n)*Content-Length: 13\r\n(?:[^\r]+\r\n)*\r\n\z

=== TEST 13: HTTP/1.0 gets a 1.0 answer and the connection closes
--- app
local app = require("perigee").app()
app:get("/hello", function(req, res) return res:send("old " .. req.http_version) end)
return app
--- raw_request eval
"GET /hello HTTP/1.0\r\n\r\n"
--- error_code: 200
--- raw_response_like
\AHTTP/1.[01] 200 .*\r\n\r\nold 1\.0\z

=== TEST 14: Expect: 100-continue gets its interim answer, then the body is read
--- app
local app = require("perigee").app()
app:post("/up", function(req, res) return res:send(("%d bytes"):format(#req:body())) end)
return app
--- request eval
"POST /up\nhello"
--- more_headers
Expect: 100-continue
--- raw_response_like
\AHTTP/\S+ 100 [^\r]*\r\n\r\nHTTP/\S+ 200 .*\r\n\r\n5 bytes\z

=== TEST 15: a chunked request body reaches the handler whole
--- app
local app = require("perigee").app()
app:post("/echo", function(req, res) return res:send(req:body()) end)
return app
--- raw_request eval
"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
--- error_code: 200
--- raw_response_like
\r\n\r\nhello world\z

=== TEST 16: a body over the route's limit is a 413
--- app
local app = require("perigee").app()
app:post("/small", { body_limit = 4 }, function(req, res) return res:send(req:body()) end)
return app
--- request
POST /small
0123456789
--- error_code: 413

=== TEST 17: a redirect
--- app
local app = require("perigee").app()
app:get("/old", function(req, res) return res:redirect("/new") end)
return app
--- request
GET /old
--- error_code: 302
--- response_headers
Location: /new

=== TEST 18: 204 has neither body nor Content-Length
--- app
local app = require("perigee").app()
app:delete("/thing", function(req, res) return res:status(204):send() end)
return app
--- raw_request eval
"DELETE /thing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
--- error_code: 204
--- response_headers
!Content-Length
!Transfer-Encoding
--- raw_response_like
\r\n\r\n\z

=== TEST 19: HEAD and 204 over any transport: the head of GET, a 204 without Content-Length
--- app
local app = require("perigee").app()
app:get("/hello", function(req, res) return res:send("hello, world\n") end)
app:delete("/thing", function(req, res) return res:status(204):send() end)
return app
--- request eval
["HEAD /hello", "DELETE /thing"]
--- error_code eval
[200, 204]
--- response_headers eval
["Content-Length: 13", "!Content-Length"]
--- response_body eval
[undef, ""]

=== TEST 20: --- http2 and --- tls: this block goes over HTTP/2 and TLS in any run
--- http2
--- tls
--- app
local app = require("perigee").app()
app:get("/v", function(req, res) return res:send(req.http_version) end)
return app
--- request
GET /v
--- error_code: 200
--- response_body: 2
