# perigee.shared() in the server: the dictionaries of DPDK shared memory,
# one for every worker, kept across reloads.
use v5.36;
use lib 'tests/lib';
use Perigee::HttpTest;

Perigee::HttpTest::run();

__DATA__

=== TEST 1: a counter starts at one
--- config
shared = { counters = 2^20 }
--- app
local perigee = require("perigee")
local app = perigee.app()
app:get("/hit", function(req, res)
  local n = perigee.shared("counters"):incr("hits", 1, 0)
  return res:send(("%d"):format(n))
end)
return app
--- request
GET /hit
--- error_code: 200
--- response_body: 1

=== TEST 2: the count survives a reload (same config: the app is reloaded)
--- config
shared = { counters = 2^20 }
--- app
local perigee = require("perigee")
local app = perigee.app()
app:get("/hit", function(req, res)
  local d = perigee.shared("counters")
  local n = d:incr("hits", 1, 0)
  d:set("last", "reloaded", 60)
  return res:send(("%d %s %s"):format(n, d:get("last"), tostring(d:ttl("last") > 59)))
end)
return app
--- request
GET /hit
--- error_code: 200
--- response_body: 2 reloaded true

=== TEST 3: a dictionary that is not configured is a clear 500
--- config
shared = { counters = 2^20 }
--- app
local perigee = require("perigee")
local app = perigee.app()
app:get("/x", function(req, res)
  return res:send(tostring(perigee.shared("nope"):get("k")))
end)
return app
--- request
GET /x
--- error_code: 500
--- error_log
no shared dictionary "nope"
