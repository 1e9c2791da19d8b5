local t = require("perigee.test")
local host = require("perigee.host")

local function tmpfile(content)
  local name = os.tmpname()
  local f = assert(io.open(name, "w"))
  f:write(content)
  f:close()
  return name
end

describe("perigee.host", function()
  before_each(function() t.reset() end)

  it("load() returns the app of a file", function()
    local path = tmpfile([[
      local app = require("perigee").app()
      app:get("/", function(_, res) res:send("loaded") end)
      return app
    ]])
    local app = assert(host.load(path))
    assert.equal("loaded", t.request(app, { path = "/" }).body)
    os.remove(path)
  end)

  it("load() reports syntax errors, load errors and a missing return", function()
    local cases = {
      { "return (", "expected" },
      { "error('at load')", "at load" },
      { "return 42", 'must end with "return app"' },
    }
    for _, c in ipairs(cases) do
      local path = tmpfile(c[1])
      local app, err = host.load(path)
      assert.is_nil(app)
      assert.matches(c[2], err, 1, true)
      os.remove(path)
    end
    assert.is_nil(host.load("/nonexistent/app.lua"))
  end)

  it("t.load_app() finds files next to the spec", function()
    local app = t.load_app("../../examples/hello/app.lua")
    assert.equal(200, t.request(app, { path = "/" }).status)
  end)

  it("abort() ends a request whose connection is gone; busy() counts", function()
    local app = require("perigee").app()
    app:get("/", function() require("perigee").sleep(100) end)
    local h = t.start(app, { path = "/" })
    assert.equal(1, host.busy())
    assert.is_true(host.abort(h.task.id))
    assert.is_true(h.done)
    assert.equal(0, host.busy())
  end)
end)
