-- perigee.app -- an application: routes, middleware and hooks.
--
-- A request goes through, in order (OpenResty's phase in brackets):
--
--   rewrite hooks        app:rewrite(fn(req, res))        [rewrite]
--   routing              req.params, req.route set
--   middleware           app:use([prefix,] fn(req, res, next))   [access]
--   route middleware     app:get(path, mw..., handler)
--   handler              or 404 / 405 / automatic OPTIONS  [content]
--   header filters       app:header_filter(fn(req, res))   [header_filter]
--   body filters         app:body_filter(fn(req, res, chunk, eof)) [body_filter]
--   log hooks            app:log(fn(req, res, info))       [log]
--
-- Errors raised anywhere in between become a response: an HTTP error
-- (perigee.http_error) its own status, anything else a 500 naming the
-- request id, after the app:error handlers had their chance.
--
-- Call chain: host.serve -> App:handle -> run_rewrite, dispatch (the
-- middleware chain) -> respond_error on failure -> run_log.

local router = require("perigee.router")
local errors = require("perigee.errors")
local runtime = require("perigee.runtime")
local sched_mod = require("perigee.sched")

local M = {}

local METHODS = { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS" }

local function callable(f)
  if type(f) == "function" then return true end
  local mt = getmetatable(f)
  return mt ~= nil and type(mt.__call) == "function"
end

local function join(prefix, path)
  if path == "/" and prefix ~= "" then return prefix end
  return prefix .. path
end

-- ------------------------------------------------------------ route sets
-- The methods shared by an app and its groups: a group is a prefix and
-- a reference to the app.

local Routes = {}

-- route(method, path, [opts,] [middleware...,] handler). opts may set
-- body_limit (bytes) and timeout (seconds; false: none) for this route.
function Routes:route(method, path, ...)
  local args = { ... }
  local opts = {}
  if type(args[1]) == "table" and not callable(args[1]) then
    opts = table.remove(args, 1)
  end
  if type(path) ~= "string" or path:byte(1) ~= 47 then
    error(("app:%s(): the path must be a string starting with '/', got %s")
          :format(method:lower(), tostring(path)), 3)
  end
  if #args == 0 then
    error(("app:%s(%q): a handler function is needed"):format(method:lower(), path), 3)
  end
  for i, f in ipairs(args) do
    if not callable(f) then
      error(("app:%s(%q): argument %d is a %s, not a function")
            :format(method:lower(), path, i, type(f)), 3)
    end
  end
  local full = join(self.prefix, path)
  local route = {
    method = method,
    pattern = full,
    handler = table.remove(args),
    middleware = args,
    body_limit = opts.body_limit,
    timeout = opts.timeout,
  }
  self.app.router:add(method, full, route)
  return self
end

for _, m in ipairs(METHODS) do
  Routes[m:lower()] = function(self, path, ...)
    return self:route(m, path, ...)
  end
end

-- any(path, ...): every method.
function Routes:any(path, ...)
  return self:route("*", path, ...)
end

-- use([prefix,] fn): middleware for every request whose path is prefix or
-- below it (compared segment by segment after decoding, so "/admin" also
-- guards "/%61dmin/x" and "/x/../admin"). Runs in declaration order.
function Routes:use(prefix, fn)
  if fn == nil then prefix, fn = "/", prefix end
  if type(prefix) ~= "string" or prefix:byte(1) ~= 47 then
    error("app:use(): the prefix must start with '/', got " .. tostring(prefix), 2)
  end
  if not callable(fn) then
    error("app:use(): expected a function(req, res, next), got " .. type(fn), 2)
  end
  local full = join(self.prefix, prefix)
  local segs, n = router.split(full)
  table.insert(self.app.middleware, { fn = fn, segs = segs, n = n, prefix = full })
  return self
end

-- static(prefix, dir[, opts]): GET and HEAD of the files beneath the
-- directory dir at prefix ("/assets" serves dir/app.css as
-- /assets/app.css) through res:sendfile, after the middleware that
-- guards prefix (app:use): authentication runs before any file is
-- touched. A relative dir is taken from the directory of the file that
-- calls static (the app's file, usually). opts are res:sendfile's (index,
-- listing, dotfiles, symlinks, precompressed, types, cache_control); root
-- is dir.
function Routes:static(prefix, dir, opts)
  if type(prefix) ~= "string" or prefix:byte(1) ~= 47 then
    error("app:static(): the prefix must start with '/', got " .. tostring(prefix), 2)
  end
  if type(dir) ~= "string" or dir == "" then
    error("app:static(): dir must be a directory path, got " .. tostring(dir), 2)
  end
  if dir:byte(1) ~= 47 then
    local src = debug.getinfo(2, "S").source
    dir = (src:match("^@(.*/)") or "") .. dir
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("app:static(): opts must be a table, got " .. type(opts), 2)
  end
  local fopts = {}
  for k, v in pairs(opts or {}) do fopts[k] = v end
  fopts.root = dir
  local function serve(req, res)
    return res:sendfile(req.params["*"] or "", fopts)
  end
  return self:route("GET", prefix:gsub("/$", "") .. "/*", serve)
end

local Group = setmetatable({}, { __index = Routes })
Group.__index = Group

-- group(prefix[, fn]): routes and middleware under prefix. With fn, calls
-- fn(group) and returns the app; without, returns the group.
function Routes:group(prefix, fn)
  if type(prefix) ~= "string" or prefix:byte(1) ~= 47 then
    error("app:group(): the prefix must start with '/', got " .. tostring(prefix), 2)
  end
  local g = setmetatable({ app = self.app, prefix = join(self.prefix, prefix):gsub("/$", "") }, Group)
  if fn then
    fn(g)
    return self
  end
  return g
end

-- ------------------------------------------------------------ the app

local App = setmetatable({}, { __index = Routes })
App.__index = App

-- new(opts): opts.body_limit (default 1 MiB) and opts.timeout (seconds a
-- request may take, default 60) apply to routes that do not set their own.
function M.new(opts)
  opts = opts or {}
  local app = setmetatable({
    prefix = "",
    router = router.new(),
    middleware = {},
    hooks = { rewrite = {}, header_filter = nil, body_filter = nil, log = {},
              error = {}, not_found = nil },
    body_limit = opts.body_limit or 1024 * 1024,
    timeout = opts.timeout or 60,
  }, App)
  app.app = app
  return app
end

function M.is_app(v)
  return getmetatable(v) == App
end

local function add_hook(app, name, fn, what)
  if not callable(fn) then
    error(("app:%s(): expected a function%s, got %s"):format(name, what, type(fn)), 3)
  end
  app.hooks[name] = app.hooks[name] or {}
  table.insert(app.hooks[name], fn)
  return app
end

-- rewrite(fn(req, res)): before routing; may change req.method, req.path
-- or req.query_string, or answer at once.
function App:rewrite(fn) return add_hook(self, "rewrite", fn, "(req, res)") end
-- header_filter(fn(req, res)): just before the headers go out.
function App:header_filter(fn) return add_hook(self, "header_filter", fn, "(req, res)") end
-- body_filter(fn(req, res, chunk, eof) -> chunk): every body chunk.
function App:body_filter(fn) return add_hook(self, "body_filter", fn, "(req, res, chunk, eof)") end
-- log(fn(req, res, info)): after the response, info = { status, bytes,
-- duration, route, error, traceback }.
function App:log(fn) return add_hook(self, "log", fn, "(req, res, info)") end
-- error(fn(err, req, res)): on a Lua error (err is the error value; the
-- traceback is in the log and in the log hooks' info) or an HTTP error:
-- answer with res to replace the default error page, or return to let the
-- next handler (or the default page) answer.
function App:error(fn) return add_hook(self, "error", fn, "(err, req, res)") end

-- not_found(fn(req, res)): replaces the default 404 answer.
function App:not_found(fn)
  if not callable(fn) then
    error("app:not_found(): expected a function(req, res), got " .. type(fn), 2)
  end
  self.hooks.not_found = fn
  return self
end

-- ------------------------------------------------------------ handling

local function under(m, segs, n)
  if m.n > n then return false end
  for i = 1, m.n do
    if m.segs[i] ~= segs[i] then return false end
  end
  return true
end

local function wants_json(req)
  local accept = req.headers.accept
  return accept and accept:find("application/json", 1, true) ~= nil
end

-- The default answer for an error status.
local function error_page(req, res, status, message)
  local reason = errors.reasons[status] or "Error"
  if res.sent then return end
  res.headers:unset("content-length")
  res.headers:unset("content-type")
  res:status(status)
  if wants_json(req) then
    return res:json({ error = message or reason, status = status, request_id = req.id })
  end
  local body = ("%d %s\n"):format(status, reason)
  if message and message ~= reason then body = body .. message .. "\n" end
  if status >= 500 then body = body .. "request id: " .. tostring(req.id) .. "\n" end
  return res:send(body)
end
M.error_page = error_page

local function final_handler(app, req, res, route, allowed)
  if route then return route.handler end
  if allowed then
    local allow = table.concat(allowed, ", ")
    if req.method == "OPTIONS" then
      return function() res:status(204):set("Allow", allow):send() end
    end
    return function()
      res:set("Allow", allow)
      error_page(req, res, 405, req.method .. " is not allowed here; allowed: " .. allow)
    end
  end
  return app.hooks.not_found or function()
    error_page(req, res, 404, "no route for " .. req.method .. " " .. req.path)
  end
end

-- The middleware chain: each function gets a next() that runs the rest.
local function dispatch(chain, req, res)
  local function call(i)
    local f = chain[i]
    if not f then return end
    local called = false
    return f(req, res, function(err)
      if called then error("next() called twice by the same middleware", 2) end
      called = true
      if err ~= nil then error(err, 0) end
      if res.finished then return end
      return call(i + 1)
    end)
  end
  return call(1)
end

local function route_and_dispatch(app, req, res)
  for _, fn in ipairs(app.hooks.rewrite) do
    fn(req, res)
    if res.finished then return end
  end
  local route, params, allowed = app.router:match(req.method, req.path)
  if not route and not allowed and not router.split(req.path) then
    errors.raise(400, "the request target must start with '/'")
  end
  req.params = params or {}
  req.route = route and route.pattern
  if route then
    if route.body_limit then req.body_limit = route.body_limit end
    local task = sched_mod.running
    if route.timeout ~= nil and task then task.sched:set_timeout(task, route.timeout or nil) end
  end
  local chain = {}
  local segs, n = router.split(req.path)
  for _, m in ipairs(app.middleware) do
    if under(m, segs, n) then chain[#chain + 1] = m.fn end
  end
  if route then
    for _, f in ipairs(route.middleware) do chain[#chain + 1] = f end
  end
  chain[#chain + 1] = final_handler(app, req, res, route, allowed)
  dispatch(chain, req, res)
end

local function traceback_handler(e)
  if e == errors.CLOSED or errors.is_http(e) then return { err = e } end
  return { err = e, tb = debug.traceback(tostring(e), 2) }
end

-- The answer to a failed request, through the app:error handlers.
local function respond_error(app, req, res, err)
  local status = errors.is_http(err) and err.status or 500
  for _, fn in ipairs(app.hooks.error) do
    local ok, e = pcall(fn, err, req, res)
    if not ok then
      runtime.log("error", ("request %s: app:error handler failed: %s")
                  :format(tostring(req.id), tostring(e)))
      break
    end
    if res.finished then return status end
  end
  local message
  if errors.is_http(err) then
    local expose = err.expose
    if expose == nil then expose = status < 500 end
    message = expose and err.message or nil
  end
  if res.sent then
    -- too late for an error page: cut the response short so that the
    -- client sees it is incomplete
    if res.transport.abort then res.transport:abort() end
    res.finished = true
    return status
  end
  error_page(req, res, status, message)
  return status
end

local function describe(req)
  return ("request %s %s %s%s"):format(tostring(req.id), tostring(req.method),
    tostring(req.path), req.route and (" (route " .. req.route .. ")") or "")
end

-- handle(req, res): run the whole request, inside a scheduler task.
-- Never raises (except while logging fails).
function App:handle(req, res)
  local started = runtime.sched and runtime.sched:now() or os.clock()
  local ok, caught = xpcall(route_and_dispatch, traceback_handler, self, req, res)
  local info = { route = req.route }
  local task = sched_mod.running
  if ok then
    if not res.finished then
      ok, caught = xpcall(function()
        if res.sent then res:finish() else res:send("") end
      end, traceback_handler)
    end
  end
  if not ok then
    local err = caught.err
    if task and task.timed_out then
      -- the deadline passed: give the error page a fresh chance to go out
      task.timed_out = false
      err = sched_mod.TIMEOUT
      caught.tb = caught.tb or "handler timed out"
    end
    info.error, info.traceback = err, caught.tb
    if err == errors.CLOSED then
      info.status = 499
      res.finished = true
    else
      if err == sched_mod.TIMEOUT then
        runtime.log("error", describe(req) .. ": handler timed out")
      elseif not errors.is_http(err) or err.status >= 500 then
        runtime.log("error", describe(req) .. ": " .. (caught.tb or tostring(err)))
      end
      local rok, status = xpcall(respond_error, traceback_handler, self, req, res, err)
      if rok then
        info.status = status
      else
        info.status = 499
        res.finished = true
        if rok == false and status.err ~= errors.CLOSED then
          runtime.log("error", describe(req) .. ": sending the error page failed: "
                      .. (status.tb or tostring(status.err)))
        end
      end
    end
  end
  info.status = info.status or res.code
  info.bytes = res.bytes
  info.duration = (runtime.sched and runtime.sched:now() or os.clock()) - started
  for _, fn in ipairs(self.hooks.log) do
    local lok, e = pcall(fn, req, res, info)
    if not lok then
      runtime.log("error", describe(req) .. ": app:log hook failed: " .. tostring(e))
    end
  end
  return info
end

return M
