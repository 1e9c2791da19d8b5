local sched = require("perigee.sched")

describe("perigee.sched", function()
  local now, s
  before_each(function()
    now = 0
    s = sched.new({ now = function() return now end })
  end)

  it("runs tasks until they suspend, and resumes them on wake", function()
    local log = {}
    local task = s:spawn(function()
      log[#log + 1] = "start"
      log[#log + 1] = s:suspend()
    end)
    assert.is_nil(s:run())
    assert.same({ "start" }, log)
    assert.equal(1, s:count())
    assert.is_true(s:wake(task.id, "woken"))
    assert.is_false(s:wake(task.id, "twice"))
    s:run()
    assert.same({ "start", "woken" }, log)
    assert.equal(0, s:count())
  end)

  it("sleeps on timers and reports the next one", function()
    local done = false
    s:spawn(function() s:sleep(2); done = true end)
    assert.equal(2, s:run())
    now = 2
    s:run()
    assert.is_true(done)
  end)

  it("fires timers in time order, then insertion order", function()
    local order = {}
    s:at(2, function() order[#order + 1] = "b" end)
    s:at(1, function() order[#order + 1] = "a" end)
    local c = s:at(1, function() order[#order + 1] = "never" end)
    s:at(2, function() order[#order + 1] = "c" end)
    s:cancel(c)
    now = 5
    s:run()
    assert.same({ "a", "b", "c" }, order)
  end)

  it("raises TIMEOUT at the suspension point after the deadline", function()
    local err
    s:spawn(function()
      local ok, e = pcall(s.sleep, s, 10)
      err = not ok and e
    end, { timeout = 1 })
    now = 1
    s:run()
    assert.equal(sched.TIMEOUT, err)
  end)

  it("changes deadlines with set_timeout", function()
    local task = s:spawn(function() s:sleep(5) end, { timeout = 1 })
    s:set_timeout(task, 10)
    s:run()
    now = 5
    s:run()
    assert.equal(0, s:count())
  end)

  it("reports failures and kills to on_exit", function()
    local exits = {}
    local function on_exit(_, ok, err, tb) exits[#exits + 1] = { ok, err, tb ~= nil } end
    s:spawn(function() error("x", 0) end, { on_exit = on_exit })
    local t2 = s:spawn(function() s:suspend() end, { on_exit = on_exit })
    s:run()
    assert.is_true(s:kill(t2, "gone"))
    assert.same({ { false, "x", true }, { false, "gone", false } }, exits)
  end)

  it("refuses suspend outside a task, and a bare coroutine.yield", function()
    assert.has_error(function() s:suspend() end)
    local err
    s:spawn(function()
      local ok, e = coroutine.yield()
      err = e
    end)
    s:run()
    assert.matches("use perigee.sleep", err)
  end)

  it("lets handlers use their own coroutines", function()
    local out = {}
    s:spawn(function()
      local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
      for i in gen do out[#out + 1] = i; s:sleep(0) end
    end)
    s:run()
    assert.same({ 1, 2, 3 }, out)
  end)
end)
