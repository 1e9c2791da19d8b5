-- perigee.timer -- worker timers.
--
--   perigee.timer.after(delay, fn)     fn(signal) once, delay seconds on
--   perigee.timer.every(interval, fn)  fn(signal) every interval seconds
--
-- Both return a timer with :cancel(), or nil and an error once the worker
-- is stopping. fn runs in its own task: it may sleep and use any perigee
-- call. signal is nil on a normal run; when the VM is being replaced
-- ("reloading") or the worker ends ("stopping"), every pending timer runs
-- once more at once with that signal, to flush its state, and then never
-- again. An error in fn is logged; an every timer keeps running.
--
-- A timer of this VM is not a timer of the others: each worker (and each
-- VM after a reload) runs its own.

local runtime = require("perigee.runtime")

local M = {}

local Timer = {}
Timer.__index = Timer

local pending = {}   -- timer -> creation number, for every armed timer
local seq = 0

local function run(t, signal)
  local sched = runtime.sched
  t.running = true
  sched:spawn(function()
    t.fn(signal)
  end, {
    name = "timer",
    on_exit = function(_, ok, err, tb)
      t.running = false
      if not ok then
        runtime.log("error", "timer callback failed: " .. tostring(tb or err))
      end
    end,
  })
end

local function arm(t, delay)
  local sched = runtime.sched
  t.entry = sched:at(sched:now() + delay, function()
    t.entry = nil
    if t.interval then
      arm(t, t.interval)
      if t.running then return end   -- the previous run is not over: skip
    else
      pending[t] = nil
    end
    run(t, nil)
  end)
end

local function new(delay, fn, interval, what)
  runtime.get_sched(what)
  if type(delay) ~= "number" or delay ~= delay or delay < 0 then
    error(what .. ": the delay must be a number of seconds >= 0, got "
          .. tostring(delay), 3)
  end
  if interval and interval <= 0 then
    error(what .. ": the interval must be > 0", 3)
  end
  if type(fn) ~= "function" then
    error(what .. ": expected a function(signal), got " .. type(fn), 3)
  end
  if runtime.stopping then return nil, runtime.stopping end
  local t = setmetatable({ fn = fn, interval = interval }, Timer)
  seq = seq + 1
  pending[t] = seq
  arm(t, delay)
  return t
end

function M.after(delay, fn)
  return new(delay, fn, nil, "perigee.timer.after")
end

function M.every(interval, fn)
  return new(interval, fn, interval, "perigee.timer.every")
end

function Timer:cancel()
  pending[self] = nil
  if self.entry then
    runtime.sched:cancel(self.entry)
    self.entry = nil
  end
  self.interval = nil
end

-- shutdown(signal): called by the host; runs every pending timer once
-- with signal. Returns how many.
function M.shutdown(signal)
  local list = {}
  for t in pairs(pending) do list[#list + 1] = t end
  table.sort(list, function(a, b) return pending[a] < pending[b] end)
  for _, t in ipairs(list) do
    t:cancel()
    run(t, signal)
  end
  return #list
end

-- reset(): forget every timer (the test helper's fresh start).
function M.reset()
  pending = {}
end

-- count(): pending timers.
function M.count()
  local n = 0
  for _ in pairs(pending) do n = n + 1 end
  return n
end

return M
