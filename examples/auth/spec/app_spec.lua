local t = require("perigee.test")

describe("auth", function()
  local app
  before_each(function()
    t.reset()
    app = t.load_app("../app.lua")
  end)

  local function me(token)
    return t.request(app, { path = "/api/me",
                            headers = token and { Authorization = "Bearer " .. token } })
  end

  it("lets anyone see /health", function()
    assert.equal("ok\n", t.request(app, { path = "/health" }).body)
  end)

  it("refuses a missing or wrong token with 401", function()
    local r = me(nil)
    assert.equal(401, r.status)
    assert.equal('Bearer realm="perigee"', r.headers["www-authenticate"])
    assert.equal(401, me("wrong").status)
    assert.equal(401, t.request(app, { path = "/api/../api/me" }).status)
  end)

  it("knows the user of a good token", function()
    local r = me("s3cret")
    assert.equal(200, r.status)
    assert.same({ user = "alice" }, r.json())
    assert.equal("4", r.headers["ratelimit-remaining"])
  end)

  it("limits each client to 5 requests a minute", function()
    for _ = 1, 5 do assert.equal(200, me("s3cret").status) end
    t.advance(20)
    local r = me("s3cret")
    assert.equal(429, r.status)
    assert.equal("40", r.headers["retry-after"])
    t.advance(40)
    assert.equal(200, me("s3cret").status)
  end)
end)
