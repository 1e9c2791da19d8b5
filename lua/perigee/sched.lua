-- perigee.sched -- the scheduler of one Lua VM: a run queue of tasks
-- (coroutines) and a timer heap, driven by the host.
--
-- The host is the C worker in production (through lua/perigee/host.lua) and
-- the test helper in specs. It gives the scheduler one function:
--
--   host.now() -> seconds     a monotonic clock (virtual in tests)
--
-- and drives it with three calls:
--
--   sched:spawn(fn, opts)     a new task, runnable at once
--   sched:wake(task, ...)     a suspended task becomes runnable; ... are
--                             returned by its sched:suspend()
--   sched:run()               resume runnable tasks and fire due timers until
--                             none is left; returns the time of the next
--                             timer (absolute, host.now() scale) or nil
--
-- Inside a task, sched:suspend() yields to the host until it calls wake;
-- sched:sleep(s) is suspend with a timer. A task has an optional deadline:
-- when it passes, the task is resumed one last time with an error raised
-- at its suspension point (it cannot be interrupted while it computes; see
-- docs/lua-api.md, "Handler timeouts").

local heap = require("perigee.heap")

local co_create, co_resume, co_status, co_yield, co_running =
    coroutine.create, coroutine.resume, coroutine.status,
    coroutine.yield, coroutine.running
local traceback = debug.traceback

local M = {}

-- The task being resumed, in any scheduler of this VM (only one of them
-- runs at a time): perigee.guard uses it to refuse blocking calls.
M.running = nil

local Sched = {}
Sched.__index = Sched

local Task = {}
Task.__index = Task

-- A unique value yielded by sched:suspend(), so that a coroutine.yield()
-- from user code (e.g. a generator inside a handler) is told apart.
local SUSPEND = setmetatable({}, { __tostring = function() return "suspend" end })

-- The error raised in a task whose deadline passed.
M.TIMEOUT = setmetatable({ timeout = true },
    { __tostring = function() return "handler timed out" end })

function M.new(host)
  assert(type(host) == "table" and type(host.now) == "function",
         "perigee.sched.new: host must have a now() function")
  return setmetatable({
    host = host,
    runq = {}, runq_head = 1, runq_tail = 0,
    timers = heap.new(),
    tasks = {},           -- id -> task, every live task
    ntasks = 0,
    last_id = 0,
    stopping = nil,       -- "reloading" or "stopping" once shutdown began
  }, Sched)
end

function Sched:now()
  return self.host.now()
end

local function push_runnable(self, task)
  self.runq_tail = self.runq_tail + 1
  self.runq[self.runq_tail] = task
end

-- spawn(fn, opts): a task running fn(task). opts (all optional):
--   timeout     seconds from now after which the task is timed out
--   on_exit     fn(task, ok, err, tb) called when the task ends, in the
--               scheduler (not in the task): ok false with the error value
--               and the traceback when fn raised
--   name        shown in errors
function Sched:spawn(fn, opts)
  opts = opts or {}
  self.last_id = self.last_id + 1
  local task = setmetatable({
    id = self.last_id,
    sched = self,
    name = opts.name or "task",
    on_exit = opts.on_exit,
    state = "runnable",
    resume_args = nil,
  }, Task)
  task.co = co_create(function()
    return fn(task)
  end)
  self.tasks[task.id] = task
  self.ntasks = self.ntasks + 1
  if opts.timeout then self:set_timeout(task, opts.timeout) end
  push_runnable(self, task)
  return task
end

local function finish(self, task, ok, err, tb)
  task.state = "dead"
  self.tasks[task.id] = nil
  self.ntasks = self.ntasks - 1
  if task.deadline_timer then
    self:cancel(task.deadline_timer)
    task.deadline_timer = nil
  end
  if task.sleep_timer then
    self:cancel(task.sleep_timer)
    task.sleep_timer = nil
  end
  if task.on_exit then task.on_exit(task, ok, err, tb) end
end

local unpack = unpack or table.unpack

local function resume(self, task)
  task.state = "running"
  local args = task.resume_args
  task.resume_args = nil
  local prev = M.running
  M.running = task
  local ok, res
  if args then
    ok, res = co_resume(task.co, unpack(args, 1, args.n))
  else
    ok, res = co_resume(task.co, task)
  end
  M.running = prev
  if not ok then
    return finish(self, task, false, res, traceback(task.co, tostring(res)))
  end
  if co_status(task.co) == "dead" then
    return finish(self, task, true)
  end
  if res ~= SUSPEND then
    -- a bare coroutine.yield() reached the top of the task: refuse it
    -- rather than leave the task suspended forever
    task.resume_args = { n = 2, false, "coroutine.yield() outside a coroutine "
                         .. "of your own: use perigee.sleep() to wait" }
    task.state = "runnable"
    return push_runnable(self, task)
  end
  if task.state == "running" then task.state = "suspended" end
end

-- run(): resume every runnable task, fire every due timer, repeat until
-- nothing is left to do now. Returns the next timer's time or nil.
function Sched:run()
  while true do
    local now = self:now()
    local t = self.timers:peek()
    while t and t.at <= now do
      self.timers:pop()
      t.fn(t)
      t = self.timers:peek()
    end
    if self.runq_head > self.runq_tail then
      t = self.timers:peek()
      return t and t.at or nil
    end
    while self.runq_head <= self.runq_tail do
      local task = self.runq[self.runq_head]
      self.runq[self.runq_head] = nil
      self.runq_head = self.runq_head + 1
      if task.state == "runnable" then resume(self, task) end
    end
  end
end

-- wake(task_or_id, ...): a suspended task becomes runnable; its suspend()
-- returns the extra arguments. Waking a task that is not suspended is a
-- no-op (it returns false) so that a late I/O event cannot resume a task
-- that moved on.
function Sched:wake(task, ...)
  if type(task) == "number" then task = self.tasks[task] end
  if not task or task.state ~= "suspended" then return false end
  task.state = "runnable"
  task.resume_args = { n = select("#", ...), ... }
  push_runnable(self, task)
  return true
end

-- Inside a task: yield until the host wakes it. Returns wake's arguments.
-- Raises M.TIMEOUT when the task's deadline passed (before or during the
-- wait).
function Sched:suspend()
  local task = M.running
  if not task or task.sched ~= self or co_running() ~= task.co then
    error("perigee: this call yields and may only be made inside a request "
          .. "handler, a middleware or a timer callback", 2)
  end
  if task.timed_out then error(M.TIMEOUT, 0) end
  local args = { co_yield(SUSPEND) }
  if task.timed_out then error(M.TIMEOUT, 0) end
  return unpack(args)
end

-- sleep(s): suspend the current task for s seconds (0 yields once, letting
-- the other runnable tasks run).
function Sched:sleep(s)
  if type(s) ~= "number" or s ~= s or s < 0 then
    error("perigee.sleep: seconds must be a number >= 0, got "
          .. tostring(s), 2)
  end
  local task = M.running
  if not task or task.sched ~= self then return self:suspend() end
  task.sleep_timer = self:at(self:now() + s, function()
    task.sleep_timer = nil
    self:wake(task)
  end)
  local ok, err = pcall(self.suspend, self)
  if task.sleep_timer then
    self:cancel(task.sleep_timer)
    task.sleep_timer = nil
  end
  if not ok then error(err, 0) end
end

-- at(when, fn): call fn(timer) in the scheduler at absolute time when. fn
-- must not yield (spawn a task for that). Returns the timer for cancel().
function Sched:at(when, fn)
  return self.timers:push(when, fn)
end

function Sched:cancel(timer)
  self.timers:remove(timer)
end

-- kill(task, err): end a task that will not be resumed again (its
-- connection was lost). Its on_exit sees ok = false and err.
function Sched:kill(task, err)
  if type(task) == "number" then task = self.tasks[task] end
  if not task or task.state == "dead" then return false end
  finish(self, task, false, err)
  return true
end

-- set_timeout(task, seconds): a new deadline, seconds from now (nil: none).
function Sched:set_timeout(task, seconds)
  if task.deadline_timer then
    self:cancel(task.deadline_timer)
    task.deadline_timer = nil
  end
  task.deadline = nil
  if not seconds then return end
  task.deadline = self:now() + seconds
  task.deadline_timer = self:at(task.deadline, function()
    task.deadline_timer = nil
    if task.state ~= "dead" then
      task.timed_out = true
      -- a suspended task gets the error at its suspension point now; a
      -- runnable one at its next suspension
      if task.state == "suspended" then self:wake(task) end
    end
  end)
end

function Sched:count()
  return self.ntasks
end

function Sched:current()
  local task = M.running
  if task and task.sched == self then return task end
  return nil
end

return M
