# The Lua API of docs/lua-api.md over the wire, against the real server:
# req.method / path / target / query_string / query (decoded, repeated
# keys, keys without a value), headers (any case, "_" for "-", repeated
# fields joined, header_values), route parameters and wildcards and the
# most specific route, groups and prefixes, middleware order around
# next() and next(err), req.ctx per request, req:read in chunks and
# req:body, req:json (400, 415), remote address and HTTP version, the
# request id (error page, JSON error page, the same id as req.id, the
# access log), res:json with a status, res:redirect, 405 with Allow and
# OPTIONS, streamed writes (chunked in 1.1, close-delimited in 1.0), the
# rewrite / header / body filter hooks, errors with a status (4xx shown,
# 5xx hidden and logged), blocking calls refused in handlers but not while
# the app file loads, the route timeout ("handler timed out"), a
# 100-continue the handler refuses, perigee.sleep, timers (after, every
# and cancel) writing into a shared dictionary read back by a later
# request, and the shared dictionary operations with TTL expiry.
# (Perigee::HttpTest; the same blocks run over h2c, h1tls and h2tls in
# 106-108, all but the two HTTP/1.0 ones.)
use v5.36;
use lib 'tests/lib';
use Perigee::HttpTest;

Perigee::HttpTest::run();

__DATA__

=== TEST 1: method, raw path, target, query string and the decoded query
--- app
local app = require("perigee").app()
app:route("PATCH", "/q/:name", function(req, res)
  local q = req.query
  return res:send(table.concat({ req.method, req.path, req.target,
    req.query_string, req.params.name, table.concat(q.x, ","), q.y,
    tostring(q.z), q.e == "" and "empty" or "?", tostring(q.nope) }, "|"))
end)
return app
--- request
PATCH /q/a%20b?x=1&x=2&y=%41+b%2Bc&z&e=
--- error_code: 200
--- response_body chomp
PATCH|/q/a%20b|/q/a%20b?x=1&x=2&y=%41+b%2Bc&z&e=|x=1&x=2&y=%41+b%2Bc&z&e=|a b|1,2|A b+c|true|empty|nil

=== TEST 2: headers in any case, "_" for "-", repeated fields joined, header_values
--- app
local app = require("perigee").app()
app:get("/h", function(req, res)
  local h = req.headers
  return res:send(table.concat({ h["X-CUSTOM-THING"], h.x_custom_thing,
    table.concat(req:header_values("x-Custom-Thing"), "+"),
    #req:header_values("absent"), tostring(h.absent), h.cookie,
    tostring(pcall(function() h.x = 1 end)) }, "|"))
end)
return app
--- request
GET /h
--- more_headers
X-Custom-Thing: one
x-custom-thing: two
Cookie: a=1
Cookie: b=2
--- error_code: 200
--- response_body chomp
one, two|one, two|one+two|0|nil|a=1; b=2|false

=== TEST 3: parameters, named and anonymous wildcards, the most specific route wins
--- app
local app = require("perigee").app()
app:get("/users/:id", function(req, res) return res:send("user " .. req.params.id .. ";") end)
app:get("/users/new", function(req, res) return res:send("new form;") end)
app:get("/users/:id/posts/:post", function(req, res)
  return res:send(("post %s of %s, route %s;"):format(req.params.post, req.params.id, req.route))
end)
app:get("/files/*path", function(req, res) return res:send("file [" .. req.params.path .. "];") end)
app:get("/static/*", function(req, res) return res:send("static [" .. req.params["*"] .. "];") end)
return app
--- request eval
[map({ "GET $_" } '/users/a%20b', '/users/new', '/users/7/posts/42',
  '/files/a/b%20c/d.txt', '/static/', '/static/css/x.css', '/users/7/posts')]
--- error_code eval
[(200) x 6, 404]
--- response_body eval
["user a b;", "new form;", "post 42 of 7, route /users/:id/posts/:post;",
 "file [a/b c/d.txt];", "static [];", "static [css/x.css];"]

=== TEST 4: groups and prefixes: nested groups, a group's middleware only below it
--- app
local app = require("perigee").app()
app:group("/api", function(api)
  api:use(function(req, res, next) res:set("X-Api", "yes"); return next() end)
  api:get("/v1/:x", function(req, res) return res:send("v1 " .. req.params.x .. " " .. req.route .. ";") end)
  api:group("/v2", function(v2)
    v2:get("/:x", function(req, res) return res:send("v2 " .. req.params.x .. " " .. req.route .. ";") end)
  end)
end)
local admin = app:group("/admin")
admin:get("/stats", function(req, res) return res:send("stats " .. tostring(res:get("X-Api")) .. ";") end)
return app
--- request eval
["GET /api/v1/a", "GET /api/v2/b", "GET /admin/stats"]
--- error_code: 200
--- response_headers eval
["X-Api: yes", "X-Api: yes", "!X-Api"]
--- response_body eval
["v1 a /api/v1/:x;", "v2 b /api/v2/:x;", "stats nil;"]

=== TEST 5: middleware runs in order around next(), then the route's, then the handler; other prefixes are skipped
--- app
local app = require("perigee").app()
local function mark(name)
  return function(req, res, next)
    table.insert(req.ctx.trace, name .. ">")
    next()
    table.insert(req.ctx.trace, "<" .. name)
  end
end
app:use(function(req, res, next)
  req.ctx.trace = { "m1>" }
  next()
  table.insert(req.ctx.trace, "<m1")
  return res:send(table.concat(req.ctx.trace, " "))
end)
app:use("/mw", mark("m2"))
app:use("/other", mark("never"))
app:get("/mw/x", mark("route"), function(req, res) table.insert(req.ctx.trace, "handler") end)
return app
--- request
GET /mw/x
--- error_code: 200
--- response_body chomp
m1> m2> route> handler <route <m2 <m1

=== TEST 6: next(err) with an HTTP error answers with its status and message
--- app
local perigee = require("perigee")
local app = perigee.app()
app:use(function(req, res, next) return next({ status = 403, message = "go away" }) end)
app:get("/x", function(req, res) return res:send("never") end)
return app
--- request
GET /x
--- error_code: 403
--- response_body
403 Forbidden
go away
--- no_error_log
[error]

=== TEST 7: req.ctx is fresh for each request of a connection
--- app
local app = require("perigee").app()
app:use(function(req, res, next)
  req.ctx.n = (req.ctx.n or 0) + 1
  return next()
end)
app:get("/c", function(req, res) return res:send("n=" .. req.ctx.n .. ";") end)
return app
--- request eval
["GET /c", "GET /c"]
--- error_code: 200
--- response_body: n=1;

=== TEST 8: req:read in chunks of at most n bytes, then req:body refuses a partly read body
--- app
local app = require("perigee").app()
app:post("/read", function(req, res)
  local total, chunks, biggest, first = 0, 0, 0, nil
  while true do
    local c = req:read(1000)
    if not c then break end
    first = first or c:sub(1, 3)
    total, chunks = total + #c, chunks + 1
    if #c > biggest then biggest = #c end
  end
  local ok, err = pcall(req.body, req)
  return res:send(("%d bytes, %s chunks, biggest %d, first %s, body %s"):format(
    total, chunks >= 100 and ">=100" or tostring(chunks), biggest, first,
    ok and "allowed" or (err:match("already partly read") and "refused" or err)))
end)
return app
--- request eval
"POST /read\n" . ("abcd" x 25000)
--- error_code: 200
--- response_body: 100000 bytes, >=100 chunks, biggest 1000, first abc, body refused

=== TEST 9: req:body reads a body of unknown length (chunked; HTTP/2: no content-length) whole, once, and keeps it
--- app
local app = require("perigee").app()
app:post("/body", function(req, res)
  local b = req:body()
  return res:send(("%d %s %s"):format(#b, b:sub(-5), tostring(req:body() == b)))
end)
return app
--- request eval
"POST /body\n" . join('', map { chr(97 + $_) x 3000 } 0 .. 9)
--- more_headers
Transfer-Encoding: chunked
--- error_code: 200
--- response_body: 30000 jjjjj true

=== TEST 10: req:json decodes a JSON body
--- app
local app = require("perigee").app()
app:post("/json", function(req, res)
  local v = req:json()
  return res:json({ sum = v.a + v.b, name = v.name }, 201)
end)
return app
--- request
POST /json
{"a": 2, "b": 40, "name": "x"}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- response_headers
Content-Type: application/json
--- response_body_like
^(?:\{"sum":42,"name":"x"\}|\{"name":"x","sum":42\})$

=== TEST 11: req:json on a body that is not JSON is a 400
--- app
local app = require("perigee").app()
app:post("/json", function(req, res) return res:json(req:json()) end)
return app
--- request
POST /json
{"a": 
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like
invalid JSON body

=== TEST 12: req:json with a Content-Type that is not JSON is a 415
--- app
local app = require("perigee").app()
app:post("/json", function(req, res) return res:json(req:json()) end)
return app
--- request
POST /json
{"a": 1}
--- more_headers
Content-Type: text/plain
--- error_code: 415

=== TEST 13: the client's address and port, the HTTP version
--- app
local app = require("perigee").app()
app:get("/who", function(req, res)
  return res:send(("%s %s %s"):format(req.remote_addr,
    tostring(req.remote_port > 1023 and req.remote_port < 65536), req.http_version))
end)
return app
--- request
GET /who
--- error_code: 200
--- response_body chomp
198.18.0.1 true 1.1
--- response_body chomp http2
198.18.0.1 true 2

=== TEST 14: the HTTP version of an HTTP/1.0 request
--- app
local app = require("perigee").app()
app:get("/who", function(req, res)
  return res:send(("%s %s"):format(req.remote_addr, req.http_version))
end)
return app
--- raw_request eval
"GET /who HTTP/1.0\r\n\r\n"
--- raw_response_like
\r\n\r\n198\.18\.0\.1 1\.0\z

=== TEST 15: a Lua error: 500 naming the request id, which is req.id, logged with method, path and route
--- app
local app = require("perigee").app()
app:header_filter(function(req, res) res:set("X-Req-Id", req.id) end)
app:get("/boom/:x", function(req, res) error("kaboom") end)
return app
--- request
GET /boom/1
--- error_code: 500
--- raw_response_like
\AHTTP/\S+ 500 [^\r]*\r\n(?:[^\r\n]+\r\n)*(?i:X-Req-Id): (w[01]-[0-9a-f]{8})\r\n(?:[^\r\n]+\r\n)*\r\n500 Internal Server Error\nrequest id: \1\n\z
--- error_log
GET /boom/1 (route /boom/:x): 
kaboom
stack traceback:

=== TEST 16: the JSON error page carries the request id
--- app
local app = require("perigee").app()
app:get("/boom", function(req, res) error("kaboom") end)
return app
--- request
GET /boom
--- more_headers
Accept: application/json
--- error_code: 500
--- response_headers
Content-Type: application/json
--- response_body_like
^(?=.*"status":500)(?=.*"request_id":"w[01]-[0-9a-f]{8}")(?=.*"error":"Internal Server Error")\{.*\}$

=== TEST 17: an HTTP error of 4xx shows its message
--- app
local app = require("perigee").app()
app:get("/teapot", function(req, res) error({ status = 422, message = "the teapot is empty" }) end)
return app
--- request
GET /teapot
--- error_code: 422
--- response_body
422 Unprocessable Content
the teapot is empty
--- no_error_log
[error]

=== TEST 18: perigee.http_error of 5xx hides its message from the client and logs it
--- app
local perigee = require("perigee")
local app = perigee.app()
app:get("/down", function(req, res) perigee.http_error(503, "the database password is hunter2") end)
return app
--- request
GET /down
--- error_code: 503
--- response_body_like
\A503 Service Unavailable\nrequest id: w[01]-[0-9a-f]{8}\n\z
--- error_log
the database password is hunter2

=== TEST 19: res:json with a status, res:redirect with 301 and 307
--- app
local app = require("perigee").app()
app:get("/j", function(req, res) return res:json({ list = { 1, 2, 3 } }, 202) end)
app:get("/moved", function(req, res) return res:redirect("/new", 301) end)
app:post("/again", function(req, res) return res:redirect("http://198.18.0.2:8080/there", 307) end)
return app
--- request eval
["GET /j", "GET /moved", "POST /again"]
--- error_code eval
[202, 301, 307]
--- response_headers eval
["Content-Type: application/json", "Location: /new",
 "Location: http://198.18.0.2:8080/there"]
--- response_body eval
['{"list":[1,2,3]}', '', '']

=== TEST 20: a method the route does not have is 405 with Allow; OPTIONS is 204 with Allow
--- app
local app = require("perigee").app()
app:get("/only-get", function(req, res) return res:send("got") end)
return app
--- request eval
["DELETE /only-get", "OPTIONS /only-get"]
--- error_code eval
[405, 204]
--- response_headers
Allow: GET, HEAD

=== TEST 21: streamed writes with sleeps in between are chunked in HTTP/1.1
--- app
local perigee = require("perigee")
local app = perigee.app()
app:get("/stream", function(req, res)
  for i = 1, 3 do
    res:write("tick " .. i .. "\n")
    perigee.sleep(0.05)
  end
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
tick 1
tick 2
tick 3

=== TEST 22: streamed writes end with the connection in HTTP/1.0
--- app
local perigee = require("perigee")
local app = perigee.app()
app:get("/stream", function(req, res)
  for i = 1, 3 do
    res:write("tick " .. i .. "\n")
    perigee.sleep(0.05)
  end
  return res:finish()
end)
return app
--- raw_request eval
"GET /stream HTTP/1.0\r\n\r\n"
--- error_code: 200
--- raw_response_like
\AHTTP/1\.[01] 200 OK\r\n(?:(?!Transfer-Encoding|Content-Length)[^\r\n]+\r\n)*\r\ntick 1\ntick 2\ntick 3\n\z
--- connection_end: eof

=== TEST 23: rewrite, header and body filters
--- app
local app = require("perigee").app()
app:rewrite(function(req, res) if req.path == "/old" then req.path = "/new" end end)
app:header_filter(function(req, res) res:set("X-Filtered", req.route) end)
app:body_filter(function(req, res, chunk, eof) return chunk:upper() end)
app:get("/new", function(req, res) return res:send("new place") end)
return app
--- request
GET /old
--- error_code: 200
--- response_headers
X-Filtered: /new
Content-Length: 9
--- response_body chomp
NEW PLACE

=== TEST 24: os.execute in a handler is refused with a clear error
--- app
local app = require("perigee").app()
app:get("/exec", function(req, res)
  os.execute("true")
  return res:send("ran")
end)
return app
--- request
GET /exec
--- error_code: 500
--- error_log
perigee: os.execute() blocks the worker and is refused inside request handlers and timers; run the command outside the server

=== TEST 25: io.popen in a handler is refused, but works while the app file loads
--- app
local loaded = io.popen("echo at-load"):read("*l")
local app = require("perigee").app()
app:get("/loaded", function(req, res) return res:send(loaded) end)
app:get("/popen", function(req, res)
  local f = io.popen("echo in-handler")
  return res:send(f:read("*l"))
end)
return app
--- request eval
["GET /loaded", "GET /popen"]
--- error_code eval
[200, 500]
--- response_body_like eval
['\Aat-load\z', '\A(?!.*in-handler)']
--- error_log
perigee: io.popen() blocks the worker and is refused inside request handlers and timers

=== TEST 26: a handler sleeping past its route's timeout gets a 500, logged as timed out
--- app
local perigee = require("perigee")
local app = perigee.app()
app:get("/slow", { timeout = 0.5 }, function(req, res)
  perigee.sleep(5)
  return res:send("too late")
end)
return app
--- request
GET /slow
--- error_code: 500
--- response_body_like
\A500 Internal Server Error\nrequest id: w[01]-[0-9a-f]{8}\n\z
--- response_time: 0.4 3
--- error_log
GET /slow (route /slow): handler timed out

=== TEST 27: Expect: 100-continue refused by the handler: no 100, the body is never asked for
--- app
local app = require("perigee").app()
app:post("/up", function(req, res) return res:status(403):send("no uploads") end)
return app
--- skip_transport: h2c curl 7.88 loses a response whose RST_STREAM(NO_ERROR) (RFC 9113 8.1) comes in the same read; h2tls runs it
--- request eval
"POST /up\nhello"
--- more_headers
Expect: 100-continue
--- error_code: 403
--- response_headers
Connection: close
--- response_body: no uploads
--- status_delta
http.continue_sent: 0
--- status_delta http2
h2.status_1xx: 0

=== TEST 28: perigee.sleep suspends the request for about that long
--- app
local perigee = require("perigee")
local app = perigee.app()
app:get("/nap", function(req, res)
  local t0 = perigee.now()
  perigee.sleep(0.2)
  local dt = perigee.now() - t0
  return res:send(("%s %s"):format(tostring(dt >= 0.19), tostring(dt < 2)))
end)
return app
--- request
GET /nap
--- error_code: 200
--- response_body chomp
true true

=== TEST 29: a timer writes into a shared dictionary, a later request reads it back
--- config
shared = { store = 2^20 },
--- app
local perigee = require("perigee")
local app = perigee.app()
app:get("/arm", function(req, res)
  local d = perigee.shared("store")
  d:delete("timer")
  local t = perigee.timer.after(0.3, function(signal)
    d:set("timer", "fired, signal " .. tostring(signal))
  end)
  return res:send(("armed %s, now %s;"):format(tostring(t ~= nil), tostring(d:get("timer"))))
end)
app:get("/read", function(req, res)
  return res:send(("read %s;"):format(tostring(perigee.shared("store"):get("timer"))))
end)
return app
--- request eval
["GET /arm", "GET /read"]
--- request_middle_delay: 1
--- error_code: 200
--- response_body eval
["armed true, now nil;", "read fired, signal nil;"]
--- no_error_log
[error]

=== TEST 30: an every timer ticks until it cancels itself
--- config
shared = { store = 2^20 },
--- app
local perigee = require("perigee")
local app = perigee.app()
app:get("/every", function(req, res)
  local d = perigee.shared("store")
  d:set("ticks", 0)
  local t
  t = perigee.timer.every(0.1, function()
    if d:incr("ticks", 1) >= 5 then t:cancel() end
  end)
  perigee.sleep(1.5)
  return res:send("ticks " .. d:get("ticks"))
end)
return app
--- request
GET /every
--- error_code: 200
--- response_body chomp
ticks 5

=== TEST 31: a timer started in the app file runs
--- config
shared = { store = 2^20 },
--- app
local perigee = require("perigee")
local started = perigee.now()
perigee.timer.after(0.2, function(signal)
  perigee.shared("store"):set("from-app-file", ("fired after %s, signal %s"):format(
    tostring(perigee.now() - started >= 0.19), tostring(signal)))
end)
local app = perigee.app()
app:get("/read", function(req, res)
  return res:send(tostring(perigee.shared("store"):get("from-app-file")))
end)
return app
--- request eval
["GET /read", "GET /read"]
--- request_middle_delay: 1
--- response_body_like eval
['\A(?:nil|fired after true, signal nil)\z', '\Afired after true, signal nil\z']

=== TEST 32: shared dictionary get, set, add, replace, incr, delete, ttl
--- config
shared = { store = 2^20 },
--- app
local perigee = require("perigee")
local app = perigee.app()
app:get("/dict", function(req, res)
  local d = perigee.shared("store")
  for _, k in ipairs({ "k", "n", "absent", "num", "b" }) do d:delete(k) end
  local out = {}
  local function put(...)
    local t = {}
    for i = 1, select("#", ...) do t[i] = tostring((select(i, ...))) end
    out[#out + 1] = table.concat(t, ",")
  end
  put(d:set("k", "v1"))
  put(d:get("k"))
  put(d:add("k", "v2"))
  put(d:replace("k", "v3"))
  put(d:get("k"))
  put(d:replace("absent", 1))
  put(d:incr("n", 5, 10))
  put(d:incr("n"))
  put(d:incr("absent"))
  put(d:incr("k"))
  put(d:ttl("k"))
  d:set("num", 1.5)
  put(d:get("num"))
  d:set("b", false)
  put(d:get("b"))
  d:delete("k")
  put(d:get("k"))
  put(d:ttl("k"))
  return res:send(table.concat(out, "|"))
end)
return app
--- request
GET /dict
--- error_code: 200
--- response_body chomp
true,nil,false|v1|nil,exists|true,nil,false|v3|nil,not found|15|16|nil,not found|nil,not a number|0|1.5|false|nil|nil,not found

=== TEST 33: shared dictionary entries expire after their TTL; add takes an expired lock; incr keeps the TTL
--- config
shared = { store = 2^20 },
--- app
local perigee = require("perigee")
local app = perigee.app()
app:get("/ttl", function(req, res)
  local d = perigee.shared("store")
  d:set("short", "here", 0.3)
  local left = d:ttl("short")
  local lock1 = d:add("lock", 1, 0.3)
  local lock2 = d:add("lock", 1, 0.3)
  d:set("count", 1, 0.3)
  d:incr("count")
  d:set("forever", "x")
  d:expire("forever", 0.3)
  local before = ("%s %s %s %s"):format(d:get("short"),
    tostring(left > 0 and left <= 0.3), tostring(lock1), tostring(lock2))
  perigee.sleep(0.6)
  return res:send(("%s / %s %s %s %s %s"):format(before, tostring(d:get("short")),
    tostring((d:ttl("short"))), tostring(d:add("lock", 1)),
    tostring(d:get("count")), tostring(d:get("forever"))))
end)
return app
--- request
GET /ttl
--- error_code: 200
--- response_body chomp
here true true nil / nil nil true nil nil

=== TEST 34: the access log line carries the request id, whatever the transport
--- config
log = { access = "@DIR@/access.log" },
--- app
local app = require("perigee").app()
app:get("/id", function(req, res) return res:send(req.id) end)
return app
--- request
GET /id?x=1
--- error_code: 200
--- response_body_like
\Aw[01]-[0-9a-f]{8}\z
--- access_log
^\S+Z w[01]-[0-9a-f]{8} 198\.18\.0\.1 GET /id\?x=1 200 \d+ \d+\.\d{3}$
