-- Run with: busted --lua=luajit examples/files/spec
-- (perigee.test sends files whole: validators, ranges and precompressed
-- siblings are the server's, see docs/lua-api.md "Static files").
local t = require("perigee.test")

describe("files", function()
  local app = t.load_app("../app.lua")
  local alice = { authorization = "Bearer s3cret" }

  it("serves the public index at /", function()
    local r = t.request(app, { path = "/" })
    assert.equal(200, r.status)
    assert.matches("Served by Perigee", r.body, 1, true)
    assert.equal("max-age=3600", r.headers["cache-control"])
  end)

  it("serves the other public files", function()
    local r = t.request(app, { path = "/style.css" })
    assert.equal(200, r.status)
    assert.matches("font-family", r.body, 1, true)
  end)

  it("wants a token for the private files, before opening any", function()
    local r = t.request(app, { path = "/private/report.txt" })
    assert.equal(401, r.status)
    assert.equal('Bearer realm="files"', r.headers["www-authenticate"])
    r = t.request(app, { path = "/private/report.txt", headers = alice })
    assert.equal(200, r.status)
    assert.equal("Only for alice.\n", r.body)
  end)

  it("404s what is not there", function()
    assert.equal(404, t.request(app, { path = "/nope.txt" }).status)
  end)
end)
