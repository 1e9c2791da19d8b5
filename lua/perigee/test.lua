-- perigee.test -- run an app in-process, for busted specs.
--
--   local t = require("perigee.test")
--   local app = dofile("app.lua")            -- or require
--   local r = t.request(app, { method = "GET", path = "/hello/ann" })
--   assert.equal(200, r.status)
--   assert.equal("application/json", r.headers["content-type"])
--
-- Requests go through the same code as in the server (perigee.host,
-- routing, middleware, req, res); only the transport and the clock are
-- different: the transport is in memory and the clock is virtual. It
-- advances only when you call t.advance(s), or by itself inside
-- t.request() while the request waits for a timer (so sleep(60) in a
-- handler takes no real time).
--
-- Requiring this module sets up the host; t.reset() starts afresh (clock
-- at 0, no timers, empty shared dictionaries).

local host = require("perigee.host")
local runtime = require("perigee.runtime")
local memory = require("perigee.shared.memory")
local headers = require("perigee.headers")
local cjson = require("cjson.safe")

local M = {}

local clock = 0
M.logs = {}

-- ------------------------------------------------------------ the host

function M.reset()
  clock = 0
  M.logs = {}
  M.backend = memory.new({ now = function() return clock end })
  host.init({
    now = function() return clock end,
    log = function(level, msg) table.insert(M.logs, { level = level, msg = msg }) end,
    shared_backend = M.backend,
    id_prefix = "test",
  })
end

-- now(): the virtual clock.
function M.now() return clock end

-- run(): let every runnable task run, fire due timers (no clock change).
function M.run() return host.run() end

-- advance(seconds): move the clock, firing every timer on the way in
-- order (each at its own time).
function M.advance(seconds)
  assert(type(seconds) == "number" and seconds >= 0,
         "t.advance: seconds must be a number >= 0")
  local target = clock + seconds
  while true do
    local nxt = host.run()
    if not nxt or nxt > target then break end
    clock = math.max(clock, nxt)
  end
  clock = target
  host.run()
end

-- shared_dict(name, capacity): declare a dictionary of capacity bytes
-- (undeclared ones get 1 MiB, as if configured).
function M.shared_dict(name, capacity)
  M.backend.declare(name, capacity)
  require("perigee.shared").reset()
  return require("perigee").shared(name)
end

-- shutdown(signal): what a reload ("reloading") or a stop ("stopping")
-- does to this VM's timers.
function M.shutdown(signal) return host.shutdown(signal) end

-- errors(): the error lines logged since the last reset, as one string.
function M.errors()
  local out = {}
  for _, l in ipairs(M.logs) do
    if runtime.levels[l.level] >= runtime.levels.error then out[#out + 1] = l.msg end
  end
  return table.concat(out, "\n")
end

-- load_app(path): load an app file as the server does (perigee.host.load)
-- and return the app; errors say why it failed. A relative path is taken
-- from the directory of the calling file, so a spec can say
-- t.load_app("../app.lua").
function M.load_app(path)
  if path:byte(1) ~= 47 then
    local src = debug.getinfo(2, "S").source
    local dir = src:match("^@(.*/)") or ""
    path = dir .. path
  end
  local app, err = host.load(path)
  if not app then error("t.load_app: " .. tostring(err), 2) end
  return app
end

-- ------------------------------------------------------------ transport

local Transport = {}
Transport.__index = Transport

local function header_list(h)
  local list = {}
  if h == nil then return list end
  if h[1] then
    for _, p in ipairs(h) do list[#list + 1] = { p[1], tostring(p[2]) } end
  else
    local names = {}
    for k in pairs(h) do names[#names + 1] = k end
    table.sort(names)
    for _, k in ipairs(names) do
      local v = h[k]
      if type(v) == "table" then
        for _, x in ipairs(v) do list[#list + 1] = { k, tostring(x) } end
      else
        list[#list + 1] = { k, tostring(v) }
      end
    end
  end
  return list
end

local function has(list, name)
  for _, p in ipairs(list) do
    if p[1]:lower() == name then return true end
  end
  return false
end

-- M.STREAM as spec.body: the body is sent later with handle:send().
M.STREAM = setmetatable({}, { __tostring = function() return "t.STREAM" end })

local function new_transport(spec)
  local method = spec.method or "GET"
  local path = spec.path or "/"
  if spec.query then
    path = path .. (path:find("?", 1, true) and "&" or "?")
           .. require("perigee.url").encode_query(spec.query)
  end
  local list = header_list(spec.headers)
  local body = spec.body
  if spec.json ~= nil then
    body = assert(cjson.encode(spec.json))
    if not has(list, "content-type") then
      list[#list + 1] = { "Content-Type", "application/json" }
    end
  end
  if not has(list, "host") then table.insert(list, 1, { "Host", "localhost" }) end
  local chunks = {}
  if type(body) == "string" then
    if not has(list, "content-length") then
      list[#list + 1] = { "Content-Length", tostring(#body) }
    end
    if body ~= "" then chunks[1] = body end
  elseif type(body) == "table" and body ~= M.STREAM then
    for _, c in ipairs(body) do chunks[#chunks + 1] = c end
    if not has(list, "transfer-encoding") then
      list[#list + 1] = { "Transfer-Encoding", "chunked" }
    end
  end
  return setmetatable({
    method = method,
    target = path,
    version = spec.version or "1.1",
    remote_addr = spec.remote_addr or "198.18.0.1",
    remote_port = spec.remote_port or 40000,
    id = spec.id,
    header_pairs = list,
    -- request body
    chunks = chunks,
    body_open = body == M.STREAM,   -- more chunks may come
    body_delay = spec.body_delay,   -- seconds between chunks
    body_ready_at = clock + (spec.body_delay or 0),
    reader = nil,                   -- the task waiting for body data
    -- response
    window = spec.window,           -- bytes the client buffers
    drain = spec.drain,             -- bytes per second it reads
    buffered = 0, drained_at = clock,
    close_after = spec.close_after, -- the client leaves after n bytes
    closed = false,
    out = { chunks = {}, times = {} },
  }, Transport)
end

function Transport:headers()
  return self.header_pairs
end

local function suspend_until(at)
  local s = runtime.sched
  local task = s:current()
  local timer = s:at(at, function() s:wake(task) end)
  local ok, err = pcall(s.suspend, s)
  s:cancel(timer)
  if not ok then error(err, 0) end
end

function Transport:read_body(max)
  while true do
    if self.closed then return nil, "closed" end
    local c = self.chunks[1]
    if c then
      if self.body_delay and clock < self.body_ready_at then
        suspend_until(self.body_ready_at)
      else
        if #c > max then
          self.chunks[1] = c:sub(max + 1)
          c = c:sub(1, max)
        else
          table.remove(self.chunks, 1)
          self.body_ready_at = clock + (self.body_delay or 0)
        end
        return c
      end
    elseif not self.body_open then
      return nil
    else
      local s = runtime.sched
      self.reader = s:current()
      local ok, err = pcall(s.suspend, s)
      self.reader = nil
      if not ok then error(err, 0) end
    end
  end
end

function Transport:send_headers(status, list)
  if self.closed then return nil, "closed" end
  assert(not self.out.status, "send_headers called twice")
  self.out.status = status
  self.out.header_list = list
  return true
end

-- The client reads drain bytes per second of what is buffered.
local function drain(self)
  if not self.drain then return end
  local n = (clock - self.drained_at) * self.drain
  self.buffered = math.max(0, self.buffered - n)
  self.drained_at = clock
end

function Transport:write(chunk)
  if self.closed then return nil, "closed" end
  assert(self.out.status, "write before send_headers")
  assert(not self.out.finished, "write after finish")
  if self.close_after and self.out.bytes_total
     and self.out.bytes_total >= self.close_after then
    self.closed = true
    return nil, "closed"
  end
  if self.window then
    drain(self)
    while self.buffered > 0 and self.buffered + #chunk > self.window do
      self.out.waits = (self.out.waits or 0) + 1
      local need = self.buffered + #chunk - self.window
      suspend_until(clock + need / self.drain)
      if self.closed then return nil, "closed" end
      drain(self)
    end
    self.buffered = self.buffered + #chunk
  end
  table.insert(self.out.chunks, chunk)
  table.insert(self.out.times, clock)
  self.out.bytes_total = (self.out.bytes_total or 0) + #chunk
  return true
end

function Transport:finish()
  if self.closed then return nil, "closed" end
  self.out.finished = true
  return true
end

function Transport:abort()
  self.out.aborted = true
  self.closed = true
end

-- Files, in process: read whole with io.open and answered 200. The
-- server's transport answers validators, conditionals, ranges and
-- precompressed siblings in C (tests/unit/http/test_file.c,
-- tests/t/120-static.t); here the handler's side is what is tested.
local function read_file(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local data = f:read("*a")
  f:close()
  return data
end

function Transport:file_open(root, path, opts)
  local segs = {}
  for seg in path:gmatch("[^/]+") do
    if seg == "." or seg == ".." then return nil, { status = 403 } end
    if seg:byte(1) == 46 and not opts.dotfiles then return nil, { status = 404 } end
    segs[#segs + 1] = seg
  end
  local name = table.concat(segs, "/")
  local base = root:gsub("/$", "") .. "/"
  local data = read_file(base .. name)
  local is_dir = false
  if data == nil and io.open(base .. name, "rb") then      -- a directory
    is_dir = true
    if opts.index == "" then return nil, { status = 404, is_dir = true } end
    name = (name == "" and "" or name .. "/") .. opts.index
    data = read_file(base .. name)
  end
  if data == nil then return nil, { status = 404, is_dir = is_dir } end
  self.files = (self.files or 0) + 1
  return { data = data }, {
    status = 200, is_dir = is_dir, len = #data, size = #data, name = name,
    type = "application/octet-stream", etag = ('"%x"'):format(#data),
    last_modified = "Thu, 01 Jan 1970 00:00:00 GMT", content_range = "",
  }
end

function Transport:file_send(f)
  local ok, err = self:write(f.data)
  if not ok then return nil, err end
  return self:finish()
end

function Transport.file_close() end

-- ------------------------------------------------------------ requests

local Handle = {}
Handle.__index = Handle

-- start(app, spec): begin a request and return a handle at its first
-- suspension. spec fields:
--   method ("GET"), path ("/", may hold a query), query (table, added to
--   path), headers (map, or list of { name, value }), body (string, list
--   of chunks, or t.STREAM for handle:send), json (a value sent as JSON),
--   body_delay (seconds between body chunks), remote_addr, remote_port,
--   version ("1.1"), id (request id), window and drain (the client
--   buffers window bytes and reads drain bytes per second: backpressure),
--   close_after (the client leaves after that many body bytes).
function M.start(app, spec)
  spec = spec or {}
  local tr = new_transport(spec)
  local h = setmetatable({ transport = tr, done = false }, Handle)
  h.task, h.req, h.res = host.serve(app, tr, function(info)
    h.done = true
    h.info = info
  end)
  return h
end

-- handle:send(chunk): more of a t.STREAM body; send(nil) ends it.
function Handle:send(chunk)
  local tr = self.transport
  if chunk == nil then
    tr.body_open = false
  else
    table.insert(tr.chunks, chunk)
  end
  if tr.reader then runtime.sched:wake(tr.reader) end
  host.run()
  return self
end

-- handle:close(): the client goes away.
function Handle:close()
  local tr = self.transport
  tr.closed = true
  if tr.reader then runtime.sched:wake(tr.reader) end
  host.run()
  return self
end

-- handle:wait([max_seconds]): advance the clock until the request ends
-- (at most max_seconds, default 3600). Returns the response.
function Handle:wait(max)
  local limit = clock + (max or 3600)
  while not self.done do
    local nxt = host.run()
    if self.done then break end
    if not nxt then
      error("t.request: the request waits for an event that nothing will "
            .. "send (a t.STREAM body without handle:send?)", 2)
    end
    if nxt > limit then
      error(("t.request: still running after %g virtual seconds"):format(max or 3600), 2)
    end
    clock = math.max(clock, nxt)
  end
  return self:response()
end

-- handle:response(): what the client received so far: { status, headers,
-- header_list, body, chunks, times, finished, aborted, info, id, waits }.
function Handle:response()
  local out = self.transport.out
  local h = headers.request(out.header_list or {})
  return {
    status = out.status,
    headers = h,
    header_list = out.header_list or {},
    body = table.concat(out.chunks),
    chunks = out.chunks,
    times = out.times,
    finished = out.finished or false,
    aborted = out.aborted or false,
    waits = out.waits or 0,
    info = self.info,
    id = self.req.id,
  }
end

-- handle:json(): the body decoded.
function Handle:json()
  return (cjson.decode(self:response().body))
end

-- request(app, spec): start and wait (see start). The response also has
-- json() to decode its body.
function M.request(app, spec)
  local r = M.start(app, spec):wait(spec and spec.max_time)
  function r.json() return cjson.decode(r.body) end
  return r
end

M.reset()

return M
