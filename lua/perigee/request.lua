-- perigee.request -- the req object handed to middleware and handlers.
--
-- Fields: method, path, query_string, query (parsed on first use),
-- headers (case-insensitive, parsed on first use), params, route, ctx, id,
-- remote_addr, remote_port, http_version, target. Methods: header_values,
-- read, body, json, form. See docs/lua-api.md.

local cjson = require("cjson.safe")
local url = require("perigee.url")
local headers = require("perigee.headers")
local errors = require("perigee.errors")

local M = {}
local Req = {}

-- Fields computed on first use.
local lazy = {
  query = function(req)
    return (url.parse_query(req.query_string))
  end,
  headers = function(req)
    local h, values = headers.request(req.transport:headers())
    rawset(req, "_values", values)
    return h
  end,
}

local meta = {
  __index = function(req, k)
    local f = lazy[k]
    if f then
      local v = f(req)
      rawset(req, k, v)
      return v
    end
    return Req[k]
  end,
}

M.DEFAULT_BODY_LIMIT = 1024 * 1024

-- new(transport, opts): opts.body_limit is the default limit of read/body.
function M.new(transport, opts)
  local target = transport.target or "/"
  local path, qs = target:match("^([^?]*)%??(.*)$")
  return setmetatable({
    transport = transport,
    method = transport.method,
    target = target,
    path = path,
    query_string = qs,
    http_version = transport.version or "1.1",
    remote_addr = transport.remote_addr,
    remote_port = transport.remote_port,
    id = transport.id,
    params = {},
    ctx = {},
    body_limit = opts and opts.body_limit or M.DEFAULT_BODY_LIMIT,
    _read = 0,          -- body bytes read so far
    _eof = false,
  }, meta)
end

-- header_values(name): every value of a request header, in order ({} when
-- absent).
function Req:header_values(name)
  local _ = self.headers
  return self._values(name)
end

local function too_large(limit)
  errors.raise(413, ("request body larger than %d bytes"):format(limit), 3)
end

local function check_length(self, limit)
  local cl = tonumber(self.headers["content-length"])
  if cl and cl > limit then too_large(limit) end
end

-- read([n]): the next chunk of the body, at most n bytes (default 16 KiB),
-- or nil at its end. Yields while the body is on its way. Raises a 413
-- error past body_limit, a 408 when the client is too slow (the
-- transport's body timeout), and ends the request quietly when the client
-- closed the connection.
function Req:read(n, limit)
  n = n or 16384
  limit = limit or self.body_limit
  if self._eof then return nil end
  if self._read == 0 then check_length(self, limit) end
  local chunk, err = self.transport:read_body(n)
  if chunk == nil then
    if err == nil then
      self._eof = true
      return nil
    end
    if err == "closed" then error(errors.CLOSED, 0) end
    if err == "timeout" then errors.raise(408, "request body timed out", 2) end
    errors.raise(400, "reading the request body failed: " .. tostring(err), 2)
  end
  self._read = self._read + #chunk
  if self._read > limit then too_large(limit) end
  return chunk
end

-- body([limit]): the whole body as a string ("" when there is none). The
-- result is kept: calling it again returns the same string.
function Req:body(limit)
  if self._body then return self._body end
  if self._read > 0 then
    error("req:body() after req:read(): the body was already partly read", 2)
  end
  local parts = {}
  while true do
    local chunk = self:read(65536, limit)
    if not chunk then break end
    parts[#parts + 1] = chunk
  end
  self._body = table.concat(parts)
  return self._body
end

-- json([limit]): the body decoded as JSON; a 400 error when it is not
-- JSON, a 415 when Content-Type is set and is not a JSON type.
function Req:json(limit)
  local ct = self.headers["content-type"]
  if ct and not ct:lower():match("^application/[%w.+-]*json") then
    errors.raise(415, "expected a JSON body (Content-Type: application/json)", 2)
  end
  local v, err = cjson.decode(self:body(limit))
  if v == nil and err then errors.raise(400, "invalid JSON body: " .. err, 2) end
  return v
end

-- form([limit]): an application/x-www-form-urlencoded body, parsed like
-- the query string.
function Req:form(limit)
  return (url.parse_query(self:body(limit)))
end

return M
