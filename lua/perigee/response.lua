-- perigee.response -- the res object handed to middleware and handlers.
--
-- A response is built (status, headers), then either sent whole (send,
-- json, redirect) or streamed (write ... finish). The headers go out on
-- the first send or write, after the app's header_filter hooks; every body
-- chunk goes through its body_filter hooks. See docs/lua-api.md.

local cjson = require("cjson")
local headers = require("perigee.headers")
local errors = require("perigee.errors")
local listing = require("perigee.listing")

local M = {}
local Res = {}
Res.__index = Res

-- new(transport, req, hooks): hooks.header_filter and hooks.body_filter
-- are arrays of functions (from the app).
function M.new(transport, req, hooks)
  return setmetatable({
    transport = transport,
    req = req,
    hooks = hooks or {},
    code = 200,
    headers = headers.response(),
    sent = false,       -- the headers went out
    finished = false,   -- the response is complete
    bytes = 0,          -- body bytes handed to the transport
    nobody = false,     -- HEAD, 1xx, 204, 304: headers only
  }, Res)
end

local function check_open(self, what)
  if self.finished then
    error("res:" .. what .. "(): the response was already sent", 3)
  end
end

-- status([code]): set the status (chainable), or return it without code.
function Res:status(code)
  if code == nil then return self.code end
  if type(code) ~= "number" or code < 100 or code > 599 or code % 1 ~= 0 then
    error("res:status(): expected an integer 100..599, got " .. tostring(code), 2)
  end
  if self.sent then error("res:status(): the headers were already sent", 2) end
  self.code = code
  return self
end

-- set/add/unset(name, value) are chainable; get(name) returns the value.
function Res:set(name, value)
  if self.sent then error("res:set(): the headers were already sent", 2) end
  self.headers:set(name, value)
  return self
end

function Res:add(name, value)
  if self.sent then error("res:add(): the headers were already sent", 2) end
  self.headers:add(name, value)
  return self
end

function Res:unset(name)
  if self.sent then error("res:unset(): the headers were already sent", 2) end
  self.headers:unset(name)
  return self
end

function Res:get(name)
  return self.headers:get(name)
end

local function io_check(ok, err)
  if ok then return end
  if err == "closed" then error(errors.CLOSED, 0) end
  error("perigee: transport: " .. tostring(err), 0)
end

local function filter(self, chunk, eof)
  local fs = self.hooks.body_filter
  if not fs then return chunk end
  for i = 1, #fs do
    chunk = fs[i](self.req, self, chunk, eof) or ""
  end
  return chunk
end

local function send_headers(self)
  local fs = self.hooks.header_filter
  if fs then
    for i = 1, #fs do fs[i](self.req, self) end
  end
  local code = self.code
  if code < 200 or code == 204 or code == 304 then
    self.nobody = true
    self.headers:unset("content-length")
  elseif self.req and self.req.method == "HEAD" then
    self.nobody = true
  end
  self.sent = true
  io_check(self.transport:send_headers(code, self.headers:list()))
end

local function write(self, chunk)
  if self.nobody or chunk == "" then return end
  self.bytes = self.bytes + #chunk
  io_check(self.transport:write(chunk))
end

-- send([body]): the whole response; Content-Type defaults to
-- text/plain; charset=utf-8 and Content-Length is set. After write(),
-- send(body) writes the last chunk and finishes.
function Res:send(body)
  check_open(self, "send")
  if body == nil then body = "" end
  if type(body) ~= "string" then
    error("res:send(): the body must be a string, got " .. type(body)
          .. " (use res:json() for tables)", 2)
  end
  if self.sent then
    write(self, filter(self, body, false))
    return self:finish()
  end
  if body ~= "" and not self.headers:get("content-type") then
    self.headers:set("Content-Type", "text/plain; charset=utf-8")
  end
  self.headers:set("Content-Length", #body)
  local filtered = filter(self, body, true)
  if filtered ~= body then self.headers:set("Content-Length", #filtered) end
  send_headers(self)
  write(self, filtered)
  self.finished = true
  io_check(self.transport:finish())
  return self
end

-- json(value[, status]): value encoded with lua-cjson, Content-Type
-- application/json.
function Res:json(value, status)
  check_open(self, "json")
  if status then self:status(status) end
  if not self.sent and not self.headers:get("content-type") then
    self.headers:set("Content-Type", "application/json")
  end
  return self:send(cjson.encode(value))
end

-- redirect(location[, status]): 302 by default (301, 303, 307, 308 too).
function Res:redirect(location, status)
  check_open(self, "redirect")
  status = status or 302
  if status < 300 or status > 399 then
    error("res:redirect(): status must be 3xx, got " .. tostring(status), 2)
  end
  self:status(status):set("Location", location)
  return self:send("")
end

-- write(chunk): stream a part of the body. The first write sends the
-- headers (without Content-Length unless you set it: the transport frames
-- the body, chunked in HTTP/1.1). Yields while the client is slower than
-- the handler (backpressure); ends the request quietly when the client
-- went away.
function Res:write(chunk)
  check_open(self, "write")
  if type(chunk) ~= "string" then
    error("res:write(): expected a string, got " .. type(chunk), 2)
  end
  if not self.sent then send_headers(self) end
  write(self, filter(self, chunk, false))
  return self
end

-- ------------------------------------------------------------ files

-- The file name's extension, lower case ("" when none).
local function extension(name)
  return (name:match("%.([^./]+)$") or ""):lower()
end

local function check_file_opts(opts)
  if type(opts) ~= "table" then
    error("res:sendfile(): opts must be a table, got " .. type(opts), 3)
  end
  for _, k in ipairs({ "root", "index", "cache_control" }) do
    local v = opts[k]
    if v ~= nil and v ~= false and type(v) ~= "string" then
      error(("res:sendfile(): opts.%s must be a string, got %s"):format(k, type(v)), 3)
    end
  end
  if opts.types ~= nil and type(opts.types) ~= "table" then
    error("res:sendfile(): opts.types must be a table { ext = type }", 3)
  end
end

-- Headers of a file answer (info from the transport's file_open).
local function file_headers(self, info, opts)
  local h = self.headers
  h:set("ETag", info.etag)
  h:set("Last-Modified", info.last_modified)
  if opts.cache_control then h:set("Cache-Control", opts.cache_control) end
  if opts.precompressed then h:add("Vary", "Accept-Encoding") end
  if info.status == 304 then return end
  h:set("Accept-Ranges", "bytes")
  if info.content_range ~= "" then h:set("Content-Range", info.content_range) end
  if info.status ~= 200 and info.status ~= 206 then return end
  if not h:get("content-type") then
    local types = opts.types
    h:set("Content-Type", types and types[extension(info.name)] or info.type)
  end
  if info.encoding then h:set("Content-Encoding", info.encoding) end
end

-- sendfile(path[, opts]): the file as the response, its bytes sent from
-- the worker's file cache without copying (the handler never reads it).
-- With opts.root, path is a decoded path beneath that directory (no "..",
-- no dot files, no symlink out of it); without, path is absolute and
-- trusted. Answers conditional requests (304, 412), a single Range (206,
-- 416) and HEAD; a directory is redirected to its "/" form and served by
-- its index, or with opts.listing an HTML page of what it holds. Raises
-- 403/404 as HTTP errors. opts: root, index ("index.html"; false: none),
-- listing, dotfiles, symlinks, precompressed (serve path.br / path.gz when
-- Accept-Encoding allows), types ({ ext = type }), cache_control. Body
-- filters do not see file bodies.
function Res:sendfile(path, opts)
  check_open(self, "sendfile")
  if self.sent then error("res:sendfile(): the headers were already sent", 2) end
  if type(path) ~= "string" then
    error("res:sendfile(): expected a path string, got " .. type(path), 2)
  end
  opts = opts or {}
  check_file_opts(opts)
  local tr = self.transport
  if not tr.file_open then
    error("res:sendfile(): this transport cannot send files", 2)
  end
  local o = { dotfiles = opts.dotfiles, symlinks = opts.symlinks,
              precompressed = opts.precompressed, listing = opts.listing,
              index = opts.index == nil and "index.html" or opts.index or "" }
  local root = opts.root
  if not root then
    if path:byte(1) ~= 47 then
      error("res:sendfile(): the path must be absolute, or give opts.root", 2)
    end
    root, o.dotfiles, o.symlinks = "/", true, true
  end
  local f, info = tr:file_open(root, path, o)
  local req = self.req
  if info.is_dir and req and req.path:sub(-1) ~= "/" then
    if f then tr.file_close(f) end
    local q = req.query_string
    return self:redirect(req.path .. "/" .. ((q and q ~= "") and "?" .. q or ""), 301)
  end
  if not f then
    if info.status == 499 then error(errors.CLOSED, 0) end
    if info.listing then
      local page = listing.render(req and req.path or "/",
                                  listing.parse(info.listing),
                                  info.listing_truncated)
      if opts.cache_control then self:set("Cache-Control", opts.cache_control) end
      return self:set("Content-Type", "text/html; charset=utf-8"):send(page)
    end
    errors.raise(info.is_dir and 403 or info.status, nil, 2)
  end
  self:status(info.status)
  file_headers(self, info, opts)
  self.headers:set("Content-Length", info.len)
  send_headers(self)
  self.finished = true
  if self.nobody or info.len == 0 then
    tr.file_close(f)
    io_check(tr:finish())
    return self
  end
  self.bytes = self.bytes + info.len
  io_check(tr:file_send(f))
  return self
end

-- finish(): end a streamed response.
function Res:finish()
  if self.finished then return self end
  if not self.sent then send_headers(self) end
  local last = filter(self, "", true)
  write(self, last)
  self.finished = true
  io_check(self.transport:finish())
  return self
end

return M
