-- perigee.guard -- refuses blocking calls inside handlers and timers.
--
-- A handler that waits in the kernel stops every connection of its worker.
-- install() wraps os.execute, io.popen, io.read, io.lines (on stdin),
-- os.exit and require of LuaSocket ("socket", "socket.*") so that, inside
-- a request or timer task, they raise an error saying what to do instead.
-- Outside tasks (while the app file loads) they work as usual.

local sched = require("perigee.sched")

local M = {}

local installed = false

local function refuse(what, instead)
  error(("perigee: %s blocks the worker and is refused inside request "
         .. "handlers and timers; %s"):format(what, instead), 3)
end

local function wrap(tbl, name, what, instead, when)
  local orig = tbl[name]
  tbl[name] = function(...)
    if sched.running and (not when or when(...)) then refuse(what, instead) end
    return orig(...)
  end
end

function M.install()
  if installed then return end
  installed = true
  wrap(os, "execute", "os.execute()", "run the command outside the server")
  wrap(io, "popen", "io.popen()", "run the command outside the server")
  wrap(io, "read", "io.read()", "a worker has no terminal; read the request with req:read()")
  wrap(io, "lines", "io.lines() on standard input", "a worker has no terminal",
       function(file) return file == nil end)
  wrap(os, "exit", "os.exit()", "raise an error to end the request instead")
  local orig_require = require
  _G.require = function(name, ...)
    if sched.running and type(name) == "string"
       and (name == "socket" or name:match("^socket%.") or name == "ssl"
            or name == "ssl.https") then
      refuse(("require(%q) (LuaSocket)"):format(name),
             "load modules when the app file loads, and do not use LuaSocket: its I/O blocks")
    end
    return orig_require(name, ...)
  end
end

return M
