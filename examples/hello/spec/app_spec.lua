-- Run with: busted --lua=luajit examples/hello/spec
local t = require("perigee.test")

describe("hello", function()
  local app = t.load_app("../app.lua")

  it("greets", function()
    local r = t.request(app, { path = "/" })
    assert.equal(200, r.status)
    assert.equal("Hello from Perigee\n", r.body)
  end)

  it("greets by name", function()
    local r = t.request(app, { path = "/hello/ann" })
    assert.equal("application/json", r.headers["content-type"])
    assert.same({ hello = "ann" }, r.json())
  end)

  it("knows nothing else", function()
    assert.equal(404, t.request(app, { path = "/bye" }).status)
  end)
end)
