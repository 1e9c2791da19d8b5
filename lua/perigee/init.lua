-- perigee -- the Lua API of the Perigee application server.
--
--   local perigee = require("perigee")
--   local app = perigee.app()
--   app:get("/hello/:name", function(req, res)
--     return res:json{ hello = req.params.name }
--   end)
--   return app
--
-- Reference: docs/lua-api.md.

local runtime = require("perigee.runtime")
local errors = require("perigee.errors")

local M = {
  _VERSION = "0.1.0",
  timer = require("perigee.timer"),
  url = require("perigee.url"),
}

-- app([opts]): a new application (see perigee.app).
function M.app(opts)
  return require("perigee.app").new(opts)
end

-- sleep(seconds): suspend the current request or timer; the worker serves
-- others meanwhile.
function M.sleep(seconds)
  return runtime.get_sched("perigee.sleep"):sleep(seconds)
end

-- now(): the worker's clock, seconds (monotonic; virtual in specs).
function M.now()
  return runtime.get_sched("perigee.now"):now()
end

-- shared(name): a shared dictionary (see perigee.shared).
function M.shared(name)
  return require("perigee.shared").open(name)
end

-- http_error(status, message): raise an error answered with that status.
function M.http_error(status, message)
  errors.raise(status, message, 2)
end

-- log(level, ...): a line in the worker's error log.
function M.log(level, ...)
  if not runtime.levels[level] then
    error("perigee.log: unknown level " .. tostring(level), 2)
  end
  local parts = { ... }
  for i = 1, select("#", ...) do parts[i] = tostring(parts[i]) end
  runtime.log(level, table.concat(parts, " "))
end

return M
