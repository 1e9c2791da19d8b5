local perigee = require("perigee")
local t = require("perigee.test")

-- An app whose single route runs fn(req, res) and answers with what it
-- returns, JSON-encoded.
local function probe(fn, opts)
  local app = perigee.app(opts)
  app:any("/*", function(req, res) res:json({ v = fn(req, res) }) end)
  return app
end

local function get(fn, spec, opts)
  local r = t.request(probe(fn, opts), spec)
  return r.json() and r.json().v, r
end

describe("req", function()
  before_each(function() t.reset() end)

  it("has method, path, target, query_string and http_version", function()
    local v = get(function(req)
      return { req.method, req.path, req.target, req.query_string, req.http_version }
    end, { method = "PUT", path = "/a/b?x=1", version = "1.0" })
    assert.same({ "PUT", "/a/b", "/a/b?x=1", "x=1", "1.0" }, v)
  end)

  it("parses the query, repeated keys as arrays", function()
    assert.same({ a = { "1", "2" }, b = "x y", c = true },
                get(function(req) return req.query end, { path = "/?a=1&a=2&b=x+y&c" }))
    assert.same({ q = "x" }, get(function(req) return req.query end, { path = "/", query = { q = "x" } }))
  end)

  it("reads headers without case, _ for -, repeated ones joined", function()
    local v = get(function(req)
      return { req.headers["X-Thing"], req.headers.x_thing, req.headers["x-thing"],
               req.headers.accept, req:header_values("accept"),
               req:header_values("none"), req.headers.host }
    end, { headers = { { "X-Thing", "1" }, { "Accept", "a" }, { "accept", "b" } } })
    assert.same({ "1", "1", "1", "a, b", { "a", "b" }, {}, "localhost" }, v)
  end)

  it("refuses writes to the request headers", function()
    local _, r = get(function(req) req.headers.x = "y" end)
    assert.equal(500, r.status)
    assert.matches("read%-only", t.errors())
  end)

  it("has remote_addr, remote_port, id and a ctx table per request", function()
    local v = get(function(req) return { req.remote_addr, req.remote_port, req.id, req.ctx } end,
                  { remote_addr = "198.18.0.9", remote_port = 5555, id = "abc" })
    assert.same({ "198.18.0.9", 5555, "abc", {} }, v)
    local a = get(function(req) return req.id end)
    local b = get(function(req) return req.id end)
    assert.is_string(a)
    assert.not_equal(a, b)
  end)

  describe("body", function()
    it("reads the whole body, once", function()
      assert.same({ "hello", "hello" }, get(function(req) return { req:body(), req:body() } end,
                                             { method = "POST", body = "hello" }))
      assert.equal("", get(function(req) return req:body() end))
    end)

    it("reads chunked bodies and bodies that arrive slowly", function()
      assert.equal("abcdef", get(function(req) return req:body() end,
                                 { method = "POST", body = { "ab", "cd", "ef" }, body_delay = 1 }))
      assert.equal(3, t.now())
    end)

    it("reads in chunks of at most n bytes", function()
      assert.same({ "abc", "def", "g" }, get(function(req)
        local out = {}
        for chunk in function() return req:read(3) end do out[#out + 1] = chunk end
        return out
      end, { method = "POST", body = "abcdefg" }))
    end)

    it("stops at the limit with 413, from Content-Length or from the bytes", function()
      local _, r = get(function(req) return req:body() end, { method = "POST", body = "12345" },
                       { body_limit = 4 })
      assert.equal(413, r.status)
      _, r = get(function(req) return req:body(2) end, { method = "POST", body = { "ab", "c" } })
      assert.equal(413, r.status)
      _, r = get(function(req) return req:body(10) end, { method = "POST", body = "12345" },
                 { body_limit = 4 })
      assert.equal(200, r.status)
    end)

    it("refuses body() after read()", function()
      local _, r = get(function(req) req:read(1); return req:body() end, { method = "POST", body = "ab" })
      assert.equal(500, r.status)
      assert.matches("already partly read", t.errors())
    end)

    it("decodes JSON and forms", function()
      assert.same({ a = { 1, 2 } }, get(function(req) return req:json() end,
                                       { method = "POST", json = { a = { 1, 2 } } }))
      local _, r = get(function(req) return req:json() end, { method = "POST", body = "{nope" })
      assert.equal(400, r.status)
      _, r = get(function(req) return req:json() end,
                 { method = "POST", body = "{}", headers = { ["Content-Type"] = "text/plain" } })
      assert.equal(415, r.status)
      assert.same({ a = "1", b = "x y" }, get(function(req) return req:form() end,
                                               { method = "POST", body = "a=1&b=x+y" }))
    end)

    it("ends the request quietly when the client leaves mid-body", function()
      local app = probe(function(req) return req:body() end)
      local h = t.start(app, { method = "POST", body = t.STREAM })
      h:send("ab")
      assert.is_false(h.done)
      h:close()
      assert.is_true(h.done)
      assert.equal(499, h.info.status)
      assert.equal("", t.errors())
    end)
  end)
end)
