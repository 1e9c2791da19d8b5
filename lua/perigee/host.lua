-- perigee.host -- what the embedding host calls: the C worker (through the
-- Lua C API, once per event, not per accessor) or the test helper.
--
--   host.init{ now = fn, log = fn, shared_backend = b }   once per VM
--   app = host.load(path)          -> app | nil, err (the reload check)
--   task = host.serve(app, transport)   start a request; returns its task
--   host.wake(task_id, ...)        an awaited I/O event happened
--   host.run()                     -> next timer time (absolute) | nil
--   host.abort(task_id)            the connection is gone: end the task
--   host.shutdown(signal)          "reloading" | "stopping": timers fire
--                                  once with the signal
--   host.busy()                    -> live tasks (0: the VM may be closed)
--
-- The transport interface is documented in docs/lua-api.md ("Host
-- interface"); perigee.test.transport is the in-process one.

local runtime = require("perigee.runtime")
local sched = require("perigee.sched")
local guard = require("perigee.guard")
local timer = require("perigee.timer")
local shared = require("perigee.shared")
local request = require("perigee.request")
local response = require("perigee.response")
local app_mod = require("perigee.app")

local M = {}

local id_seq = 0
local id_prefix = ("%04x"):format(math.random(0, 0xffff))

function M.init(opts)
  assert(type(opts) == "table" and type(opts.now) == "function",
         "perigee.host.init: opts.now (a clock in seconds) is required")
  runtime.sched = sched.new({ now = opts.now })
  runtime.stopping = nil
  if opts.log then runtime.log = opts.log end
  if opts.id_prefix then id_prefix = opts.id_prefix end
  runtime.shared_backend = opts.shared_backend
  shared.reset()
  timer.reset()
  guard.install()
  return runtime.sched
end

-- load(path): run the app file in this VM; it must return an app.
function M.load(path)
  local chunk, err = loadfile(path)
  if not chunk then return nil, err end
  local ok, app = xpcall(chunk, debug.traceback)
  if not ok then return nil, app end
  if not app_mod.is_app(app) then
    return nil, path .. " must end with \"return app\" (an app made by "
                .. "perigee.app()), it returned a " .. type(app)
  end
  return app
end

local function next_id()
  id_seq = id_seq + 1
  return ("%s%08x"):format(id_prefix, id_seq)
end

-- next_id(): a fresh request id (a transport that needs it before serve).
M.next_id = next_id

-- serve(app, transport): the request described by transport runs in a
-- new task, up to its first suspension. opts.on_done(info) is called at
-- its end.
function M.serve(app, transport, on_done)
  local s = runtime.get_sched("perigee.host.serve")
  if not transport.id then transport.id = next_id() end
  local req = request.new(transport, { body_limit = app.body_limit })
  local res = response.new(transport, req, app.hooks)
  local info
  local task = s:spawn(function()
    info = app:handle(req, res)
  end, {
    name = "request",
    timeout = app.timeout,
    on_exit = function(_, ok, err, tb)
      if not ok then
        -- only a kill (or a failure inside the log hooks) gets here
        info = info or { status = 499, error = err, traceback = tb }
        if err ~= "aborted" then
          runtime.log("error", ("request %s: %s"):format(req.id, tostring(tb or err)))
        end
      end
      if on_done then on_done(info, req, res) end
    end,
  })
  s:run()
  return task, req, res
end

function M.wake(id, ...)
  return runtime.get_sched("perigee.host.wake"):wake(id, ...)
end

function M.run()
  return runtime.get_sched("perigee.host.run"):run()
end

function M.abort(id)
  return runtime.get_sched("perigee.host.abort"):kill(id, "aborted")
end

function M.shutdown(signal)
  assert(signal == "reloading" or signal == "stopping",
         "perigee.host.shutdown: signal must be \"reloading\" or \"stopping\"")
  runtime.stopping = signal
  local n = timer.shutdown(signal)
  runtime.sched:run()
  return n
end

function M.busy()
  return runtime.sched and runtime.sched:count() or 0
end

return M
