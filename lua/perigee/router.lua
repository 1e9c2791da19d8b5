-- perigee.router -- routes by method and path.
--
-- Patterns are split on "/" into segments:
--   "users"     a static segment, matched exactly (after percent-decoding)
--   ":id"       a parameter: one whole non-empty segment, in params.id
--   "*"         a wildcard, only last: the rest of the path (possibly
--   "*rest"     empty), in params["*"] or params.rest
--
-- The most specific route wins, whatever the order of declaration: at each
-- segment a static match is tried first, then parameters, then a wildcard
-- (the rule of Lapis, httprouter and find-my-way), backtracking when a
-- branch has no route for the method. A trailing slash is ignored
-- ("/users/" is "/users").

local M = {}
local Router = {}
Router.__index = Router

local function new_node()
  return { static = {}, params = {}, wildcard = nil, routes = nil }
end

function M.new()
  return setmetatable({ root = new_node() }, Router)
end

local function decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end
M.decode = decode

-- split(path): the decoded segments of a path, dot segments resolved
-- (RFC 3986 5.2.4, never above the root), empty segments dropped. Returns
-- nil when the path does not start with "/".
function M.split(path)
  if path:byte(1) ~= 47 then return nil end
  local segs, n = {}, 0
  for raw in path:gmatch("[^/]+") do
    local seg = raw:find("%", 1, true) and decode(raw) or raw
    if seg == ".." then
      if n > 0 then segs[n] = nil; n = n - 1 end
    elseif seg ~= "." then
      n = n + 1
      segs[n] = seg
    end
  end
  return segs, n
end

-- add(method, pattern, route): route is any table; match() returns it.
-- method "*" matches every method.
function Router:add(method, pattern, route)
  assert(type(pattern) == "string" and pattern:byte(1) == 47,
         "route pattern must start with '/': " .. tostring(pattern))
  local node = self.root
  local names = {}
  local segs = {}
  for seg in pattern:gmatch("[^/]+") do segs[#segs + 1] = seg end
  for i, seg in ipairs(segs) do
    local c = seg:byte(1)
    if c == 58 then                                   -- ":"
      local name = seg:sub(2)
      assert(name:match("^[%w_]+$"), "bad parameter name in route "
             .. pattern .. ": '" .. seg .. "'")
      assert(not names[name], "parameter :" .. name .. " twice in " .. pattern)
      names[name] = true
      local child
      for _, p in ipairs(node.params) do
        if p.name == name then child = p.node end
      end
      if not child then
        child = new_node()
        node.params[#node.params + 1] = { name = name, node = child }
      end
      node = child
    elseif c == 42 then                               -- "*"
      assert(i == #segs, "a wildcard must end the route: " .. pattern)
      local name = seg:sub(2)
      if name == "" then name = "*" end
      node.wildcard = node.wildcard or { name = name, node = new_node() }
      assert(node.wildcard.name == name, "two wildcard names at the same "
             .. "place: *" .. node.wildcard.name .. " and " .. seg)
      node = node.wildcard.node
    else
      local key = decode(seg)
      node.static[key] = node.static[key] or new_node()
      node = node.static[key]
    end
  end
  node.routes = node.routes or {}
  assert(not node.routes[method], "route " .. method .. " " .. pattern
         .. " declared twice")
  node.routes[method] = route
end

-- The route of node for method, HEAD falling back to GET; with method nil,
-- any route.
local function route_for(node, method)
  local routes = node.routes
  if not routes then return nil end
  if not method then return next(routes) and true end
  return routes[method] or (method == "HEAD" and routes.GET) or routes["*"]
end

local function lookup(node, segs, i, n, params, method)
  if i > n then
    if route_for(node, method) then return node end
    -- "/static/*" also matches "/static"
    local w = node.wildcard
    if w and route_for(w.node, method) then
      params[w.name] = ""
      return w.node
    end
    return nil
  end
  local seg = segs[i]
  local child = node.static[seg]
  if child then
    local found = lookup(child, segs, i + 1, n, params, method)
    if found then return found end
  end
  for _, p in ipairs(node.params) do
    local found = lookup(p.node, segs, i + 1, n, params, method)
    if found then
      params[p.name] = seg
      return found
    end
  end
  local w = node.wildcard
  if w and route_for(w.node, method) then
    params[w.name] = table.concat(segs, "/", i, n)
    return w.node
  end
  return nil
end

-- match(method, path) -> route, params        the route for this method
--                     -> nil, nil, allowed    path known, method not: the
--                                             sorted list of its methods
--                     -> nil                  no route for this path
-- HEAD falls back to GET. path is the raw path (no query string).
function Router:match(method, path)
  local segs, n = M.split(path)
  if not segs then return nil end
  local params = {}
  local node = lookup(self.root, segs, 1, n, params, method)
  if node then return route_for(node, method), params end
  node = lookup(self.root, segs, 1, n, {}, nil)
  if not node then return nil end
  local routes = node.routes
  local allowed = {}
  for m in pairs(routes) do allowed[#allowed + 1] = m end
  if routes.GET and not routes.HEAD then allowed[#allowed + 1] = "HEAD" end
  table.sort(allowed)
  return nil, nil, allowed
end

return M
