local perigee = require("perigee")
local t = require("perigee.test")

local function run(fn, spec)
  local app = perigee.app()
  app:any("/*", fn)
  return t.request(app, spec or {})
end

describe("res", function()
  before_each(function() t.reset() end)

  it("status() sets (chainable) and reads, and checks its argument", function()
    local seen
    local r = run(function(_, res) seen = res:status(); res:status(201):send("made") end)
    assert.equal(200, seen)
    assert.equal(201, r.status)
    r = run(function(_, res) res:status(99) end)
    assert.equal(500, r.status)
    assert.matches("expected an integer 100..599", t.errors(), 1, true)
  end)

  it("set, add, get and unset headers, without case", function()
    local got
    local r = run(function(_, res)
      res:set("X-A", "1"):add("x-a", "2"):set("X-B", "b"):set("X-C", { "c1", "c2" }):unset("x-b")
      got = res:get("X-A")
      res:send("")
    end)
    assert.equal("1, 2", got)
    assert.same({ "1", "2" }, r.headers and { r.header_list[1][2], r.header_list[2][2] })
    assert.is_nil(r.headers["x-b"])
    assert.equal("c1, c2", r.headers["x-c"])
  end)

  it("refuses header injection", function()
    local r = run(function(_, res) res:set("X-A", "a\r\nSet-Cookie: x") end)
    assert.equal(500, r.status)
    assert.matches("CR, LF or NUL", t.errors())
  end)

  it("send() sets Content-Type and Content-Length", function()
    local r = run(function(_, res) res:send("hi") end)
    assert.equal("text/plain; charset=utf-8", r.headers["content-type"])
    assert.equal("2", r.headers["content-length"])
    assert.equal("hi", r.body)
    r = run(function(_, res) res:set("Content-Type", "text/html"):send("<b>") end)
    assert.equal("text/html", r.headers["content-type"])
  end)

  it("send() refuses non-strings and a second response", function()
    local r = run(function(_, res) res:send({}) end)
    assert.equal(500, r.status)
    assert.matches("use res:json", t.errors(), 1, true)
    r = run(function(_, res) res:send("a"); res:send("b") end)
    assert.equal("a", r.body)
    assert.matches("already sent", t.errors())
  end)

  it("json() encodes with cjson, with an optional status", function()
    local r = run(function(_, res) res:json({ a = 1 }, 202) end)
    assert.equal(202, r.status)
    assert.equal("application/json", r.headers["content-type"])
    assert.same({ a = 1 }, r.json())
  end)

  it("redirect() sets Location, 302 by default", function()
    local r = run(function(_, res) res:redirect("/there") end)
    assert.equal(302, r.status)
    assert.equal("/there", r.headers.location)
    assert.equal(301, run(function(_, res) res:redirect("/x", 301) end).status)
    assert.equal(500, run(function(_, res) res:redirect("/x", 200) end).status)
  end)

  it("sends no body for 204 and 304", function()
    local r = run(function(_, res) res:status(304):send("ignored") end)
    assert.equal("", r.body)
    assert.is_nil(r.headers["content-length"])
  end)

  it("write() streams, finish() ends, sent and finished tell where it is", function()
    local states = {}
    local r = run(function(_, res)
      states[1] = { res.sent, res.finished }
      res:write("a")
      states[2] = { res.sent, res.finished }
      res:write("b"):finish()
      states[3] = { res.sent, res.finished }
    end)
    assert.same({ { false, false }, { true, false }, { true, true } }, states)
    assert.same({ "a", "b" }, r.chunks)
    assert.is_nil(r.headers["content-length"])
    assert.is_true(r.finished)
  end)

  it("write() after a finish is an error; send() after write() ends the stream", function()
    local r = run(function(_, res) res:write("a"); res:send("b") end)
    assert.equal("ab", r.body)
    assert.is_true(r.finished)
    run(function(_, res) res:finish(); res:write("x") end)
    assert.matches("already sent", t.errors())
  end)

  it("headers cannot change after they were sent", function()
    run(function(_, res) res:write("a"); res:set("X", "1") end)
    assert.matches("headers were already sent", t.errors())
  end)

  it("write() yields while the client reads slowly (backpressure)", function()
    local r = run(function(_, res)
      for _ = 1, 4 do res:write(("x"):rep(1000)) end
      res:finish()
    end, { window = 1500, drain = 1000 })
    assert.equal(4000, #r.body)
    assert.same({ 0, 0.5, 1.5, 2.5 }, r.times)
    assert.equal(3, r.waits)
  end)

  it("write() ends the request quietly when the client left", function()
    local after = false
    local r = run(function(_, res)
      res:write("a"); res:write("b"); after = true
    end, { close_after = 1 })
    assert.equal("a", r.body)
    assert.is_false(after)
    assert.equal(499, r.info.status)
    assert.equal("", t.errors())
  end)
end)
