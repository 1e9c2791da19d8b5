-- perigee.shared.memory -- an in-process shared dictionary backend: the
-- interface of perigee.shared, for specs and single-process tools.
--
-- Memory is counted as the C backend will count it: ENTRY_OVERHEAD bytes
-- per entry plus the key and the value (8 bytes for a number, 1 for a
-- boolean). Entries are kept in least-recently-used order; a store that
-- does not fit frees expired entries, then evicts the least recently used
-- ones (reported by forcible = true and stats().evictions).

local M = {}

M.ENTRY_OVERHEAD = 64
M.DEFAULT_CAPACITY = 1024 * 1024

local Dict = {}
Dict.__index = Dict

local function size_of(key, value)
  local t = type(value)
  local v = t == "string" and #value or t == "number" and 8 or 1
  return M.ENTRY_OVERHEAD + #key + v
end

-- new(opts): a backend. opts.now() is the clock (seconds), opts.sizes maps
-- names to capacities in bytes; opts.auto (default true) creates unknown
-- names with DEFAULT_CAPACITY, as specs want; the server refuses them.
function M.new(opts)
  local b = { dicts = {}, now = opts.now, sizes = opts.sizes or {},
              auto = opts.auto ~= false }
  function b.open(name)
    local d = b.dicts[name]
    if d then return d end
    local cap = b.sizes[name]
    if not cap then
      if not b.auto then
        return nil, "no shared dictionary named '" .. name .. "' in the "
                    .. "configuration (add it to shared_dicts)"
      end
      cap = M.DEFAULT_CAPACITY
    end
    d = setmetatable({ now = b.now, cap = cap, used = 0, count = 0,
                       evictions = 0, map = {} }, Dict)
    -- a circular list with a sentinel: head.next is the most recent
    d.head = {}
    d.head.next, d.head.prev = d.head, d.head
    b.dicts[name] = d
    return d
  end
  -- declare(name, capacity): a dictionary of that size (bytes).
  function b.declare(name, capacity)
    b.sizes[name] = capacity
    b.dicts[name] = nil
  end
  return b
end

local function unlink(e)
  e.prev.next, e.next.prev = e.next, e.prev
end

local function link_front(d, e)
  e.next, e.prev = d.head.next, d.head
  d.head.next.prev = e
  d.head.next = e
end

local function remove(d, e)
  unlink(e)
  d.map[e.key] = nil
  d.used = d.used - e.size
  d.count = d.count - 1
end

local function expired(d, e)
  return e.expires ~= 0 and e.expires <= d.now()
end

-- The live entry of key (expired ones are freed on sight).
local function find(d, key)
  local e = d.map[key]
  if e and expired(d, e) then
    remove(d, e)
    return nil
  end
  return e
end

-- Make room for size bytes: expired entries first, then from the least
-- recently used end. Returns forcible.
local function make_room(d, size)
  if d.used + size <= d.cap then return false end
  local e = d.head.prev
  while e ~= d.head do
    local prev = e.prev
    if expired(d, e) then remove(d, e) end
    e = prev
  end
  local forcible = false
  while d.used + size > d.cap and d.head.prev ~= d.head do
    remove(d, d.head.prev)
    d.evictions = d.evictions + 1
    forcible = true
  end
  return forcible
end

local function insert(d, key, value, ttl)
  local size = size_of(key, value)
  if size > d.cap then return nil, "no memory" end
  local forcible = make_room(d, size)
  local e = { key = key, value = value, size = size,
              expires = ttl > 0 and d.now() + ttl or 0 }
  d.map[key] = e
  d.used = d.used + size
  d.count = d.count + 1
  link_front(d, e)
  return true, nil, forcible
end

function Dict:get(key)
  local e = find(self, key)
  if not e then return nil end
  unlink(e)
  link_front(self, e)
  return e.value
end

function Dict:store(mode, key, value, ttl)
  local e = find(self, key)
  if mode == "add" and e then return nil, "exists" end
  if mode == "replace" and not e then return nil, "not found" end
  if e then remove(self, e) end
  if value == nil then return true end
  return insert(self, key, value, ttl)
end

function Dict:incr(key, delta, init, init_ttl)
  local e = find(self, key)
  if not e then
    if init == nil then return nil, "not found" end
    local v = init + delta
    local ok, err = insert(self, key, v, init_ttl or 0)
    if not ok then return nil, err end
    return v
  end
  if type(e.value) ~= "number" then return nil, "not a number" end
  e.value = e.value + delta
  unlink(e)
  link_front(self, e)
  return e.value
end

function Dict:delete(key)
  local e = self.map[key]
  if e then remove(self, e) end
end

function Dict:ttl(key)
  local e = find(self, key)
  if not e then return nil, "not found" end
  if e.expires == 0 then return 0 end
  return e.expires - self.now()
end

function Dict:expire(key, ttl)
  local e = find(self, key)
  if not e then return nil, "not found" end
  e.expires = ttl > 0 and self.now() + ttl or 0
  return true
end

function Dict:flush_all()
  local now = self.now()
  for _, e in pairs(self.map) do e.expires = now end
end

function Dict:flush_expired(max)
  local n = 0
  local e = self.head.prev
  while e ~= self.head and (max == 0 or n < max) do
    local prev = e.prev
    if expired(self, e) then
      remove(self, e)
      n = n + 1
    end
    e = prev
  end
  return n
end

function Dict:keys(max)
  local out = {}
  local e = self.head.next
  while e ~= self.head and (max == 0 or #out < max) do
    if not expired(self, e) then out[#out + 1] = e.key end
    e = e.next
  end
  return out
end

function Dict:capacity() return self.cap end

function Dict:free_space() return self.cap - self.used end

function Dict:stats()
  return { entries = self.count, used = self.used, capacity = self.cap,
           evictions = self.evictions }
end

return M
