-- perigee.runtime -- the state one VM shares between its modules, set by
-- the host (perigee.host.init): the scheduler, the log function and the
-- shared dictionary backend.

local M = {
  sched = nil,            -- perigee.sched instance
  shared_backend = nil,   -- see perigee.shared
  stopping = nil,         -- "reloading" or "stopping" after host.shutdown
}

local levels = { debug = 1, info = 2, notice = 3, warn = 4, error = 5, crit = 6 }
M.levels = levels

-- log(level, msg): replaced by the host; stderr until then.
function M.log(level, msg)
  io.stderr:write("[", level, "] ", msg, "\n")
end

function M.get_sched(what)
  local s = M.sched
  if not s then
    error(what .. ": no scheduler: the host did not call "
          .. "perigee.host.init() (in specs, require \"perigee.test\")", 3)
  end
  return s
end

return M
