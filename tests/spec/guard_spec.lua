local perigee = require("perigee")
local t = require("perigee.test")

describe("blocking calls in handlers", function()
  before_each(function() t.reset() end)

  local function refused(fn, what)
    local app = perigee.app()
    app:get("/", function(_, res) fn(); res:send("ran") end)
    local r = t.request(app, { path = "/" })
    assert.equal(500, r.status)
    assert.matches(what .. " blocks the worker and is refused", t.errors(), 1, true)
  end

  it("refuses os.execute, io.popen, io.read, io.lines(), os.exit", function()
    refused(function() os.execute("true") end, "os.execute()")
    refused(function() io.popen("true") end, "io.popen()")
    refused(function() io.read() end, "io.read()")
    refused(function() io.lines() end, "io.lines() on standard input")
    refused(function() os.exit(1) end, "os.exit()")
  end)

  it("refuses LuaSocket", function()
    refused(function() require("socket") end, 'require("socket") (LuaSocket)')
    refused(function() require("socket.http") end, 'require("socket.http") (LuaSocket)')
  end)

  it("also inside timers", function()
    perigee.timer.after(0, function() os.execute("true") end)
    t.advance(0)
    assert.matches("os.execute() blocks the worker", t.errors(), 1, true)
  end)

  it("leaves them alone outside handlers (while the app loads)", function()
    assert.is_not_nil(os.execute())          -- is a shell available: not refused
    assert.is_function(io.lines("/dev/null"))
    assert.is_string(require("perigee.url")._NAME or "loaded")
  end)
end)
