-- perigee.url -- percent-decoding and application/x-www-form-urlencoded
-- parsing, for query strings and form bodies.

local M = {}

local char, tonumber = string.char, tonumber

local function hex(h) return char(tonumber(h, 16)) end

-- unescape(s): "+" is a space and "%XX" a byte, as in forms.
function M.unescape(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", hex))
end

-- escape(s): every byte but unreserved characters (RFC 3986 2.3) as %XX.
function M.escape(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c)
    return ("%%%02X"):format(c:byte())
  end))
end

-- parse_query(s) -> table: "a=1&a=2&b=&c" gives
-- { a = { "1", "2" }, b = "", c = true }. A repeated key becomes an array
-- of its values in order; a key without "=" is true (as OpenResty's
-- ngx.req.get_uri_args). At most max_args (default 100) pairs are read;
-- the second result is "truncated" when more were present.
function M.parse_query(s, max_args)
  local args, n = {}, 0
  if not s or s == "" then return args end
  max_args = max_args or 100
  for pair in s:gmatch("[^&]+") do
    n = n + 1
    if n > max_args then return args, "truncated" end
    local k, v = pair:match("^([^=]*)=(.*)$")
    if k then
      k, v = M.unescape(k), M.unescape(v)
    else
      k, v = M.unescape(pair), true
    end
    local old = args[k]
    if old == nil then
      args[k] = v
    elseif type(old) == "table" then
      old[#old + 1] = v
    else
      args[k] = { old, v }
    end
  end
  return args
end

-- encode_query(t): the inverse, keys sorted so that the result is stable.
function M.encode_query(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do
    local v = t[k]
    local vs = type(v) == "table" and v or { v }
    for _, x in ipairs(vs) do
      out[#out + 1] = x == true and M.escape(k) or M.escape(k) .. "=" .. M.escape(x)
    end
  end
  return table.concat(out, "&")
end

return M
