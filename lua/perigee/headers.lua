-- perigee.headers -- header tables.
--
-- Request headers (request(pairs)): a read-only view keyed by lower-case
-- name; any case works, and "_" stands for "-" so that
-- req.headers.content_type is req.headers["Content-Type"]. A header sent
-- several times reads as its values joined by ", " (RFC 9110 5.3; "; " for
-- Cookie); values(name) gives each of them.
--
-- Response headers (response()): an ordered list of { name, value } with
-- set (replace), add (append), get and unset, names compared without case.

local M = {}

local lower, gsub = string.lower, string.gsub

local function norm(name)
  return (gsub(lower(name), "_", "-"))
end
M.norm = norm

local Req = {}
Req.__index = function(self, k)
  if type(k) ~= "string" then return nil end
  local v = rawget(self, norm(k))
  return v
end
Req.__newindex = function()
  error("request headers are read-only (set response headers with res:set)", 2)
end

-- request(list): list is the transport's array of { name, value } pairs
-- in arrival order. Returns the header table and a values(name) function.
function M.request(list)
  local t, multi = {}, {}
  for i = 1, #list do
    local name, value = norm(list[i][1]), list[i][2]
    local old = rawget(t, name)
    if old == nil then
      rawset(t, name, value)
    else
      multi[name] = multi[name] or { old }
      table.insert(multi[name], value)
      rawset(t, name, old .. (name == "cookie" and "; " or ", ") .. value)
    end
  end
  local function values(name)
    name = norm(name)
    if multi[name] then return { unpack(multi[name]) } end
    local v = rawget(t, name)
    return v and { v } or {}
  end
  return setmetatable(t, Req), values
end

-- ------------------------------------------------------------ response

local Res = {}
Res.__index = Res

function M.response()
  return setmetatable({ n = 0 }, Res)
end

local function check(name, value)
  if type(name) ~= "string" or not name:match("^[!#$%%&'*+%-.^_`|~%w]+$") then
    error("bad header name: " .. tostring(name), 3)
  end
  value = tostring(value)
  if value:find("[%z\r\n]") then
    error("header " .. name .. ": value contains CR, LF or NUL", 3)
  end
  return value
end

-- set(name, value): replace every header of that name; a table value sets
-- one header per element; nil removes.
function Res:set(name, value)
  self:unset(name)
  if value == nil then return end
  if type(value) == "table" then
    for _, v in ipairs(value) do self:add(name, v) end
  else
    self:add(name, value)
  end
end

function Res:add(name, value)
  value = check(name, value)
  self.n = self.n + 1
  self[self.n] = { name, value }
end

-- get(name): the value, or the values joined by ", " when several; nil
-- when absent.
function Res:get(name)
  local key, out = lower(name), nil
  for i = 1, self.n do
    if lower(self[i][1]) == key then
      out = out and out .. ", " .. self[i][2] or self[i][2]
    end
  end
  return out
end

function Res:unset(name)
  local key, j = lower(name), 0
  for i = 1, self.n do
    local h = self[i]
    self[i] = nil
    if lower(h[1]) ~= key then
      j = j + 1
      self[j] = h
    end
  end
  self.n = j
end

-- list(): a fresh array of { name, value } for the transport.
function Res:list()
  local out = {}
  for i = 1, self.n do out[i] = { self[i][1], self[i][2] } end
  return out
end

return M
