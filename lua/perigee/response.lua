-- perigee.response -- the res object handed to middleware and handlers.
--
-- A response is built (status, headers), then either sent whole (send,
-- json, redirect) or streamed (write ... finish). The headers go out on
-- the first send or write, after the app's header_filter hooks; every body
-- chunk goes through its body_filter hooks. See docs/lua-api.md.

local cjson = require("cjson")
local headers = require("perigee.headers")
local errors = require("perigee.errors")

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
