-- perigee.shared -- shared dictionaries: perigee.shared(name).
--
-- The dictionaries themselves live in a backend set by the host
-- (runtime.shared_backend): DPDK shared memory reached through FFI in the
-- server, perigee.shared.memory in specs. This module checks arguments,
-- gives the errors a user reads and caches one object per name.
--
-- Backend interface (every call atomic across the workers sharing it):
--
--   backend.open(name)                   -> h | nil, err
--   h:get(key)                           -> value | nil (absent or expired)
--   h:store(mode, key, value, ttl)       -> true, nil, forcible | nil, err
--        mode "set" | "add" | "replace"; value a string, number or
--        boolean, or nil to delete (mode "set"); ttl seconds, 0 = forever;
--        err "exists" (add), "not found" (replace), "no memory" (the
--        entry alone is larger than the dictionary); forcible is true when
--        valid entries were evicted (least recently used first) to fit it
--   h:incr(key, delta, init, init_ttl)   -> new | nil, err
--        err "not found" (absent, init nil), "not a number"
--   h:delete(key)
--   h:ttl(key)                           -> seconds | nil, "not found"
--   h:expire(key, ttl)                   -> true | nil, "not found"
--   h:flush_all()                        every entry expires now
--   h:flush_expired(max)                 -> number of entries freed
--   h:keys(max)                          -> array of live keys (max 0: all)
--   h:capacity(), h:free_space()         -> bytes
--   h:stats()  -> { entries=, used=, capacity=, evictions= }

local runtime = require("perigee.runtime")

local M = {}
local Dict = {}
Dict.__index = Dict

local cache = {}

local MAX_KEY = 65535

local function check_key(self, key, what)
  if type(key) ~= "string" or key == "" or #key > MAX_KEY then
    error(("shared dict %q: %s: the key must be a non-empty string of at "
           .. "most %d bytes, got %s"):format(self.name, what, MAX_KEY,
           type(key) == "string" and ("%d bytes"):format(#key) or type(key)), 3)
  end
end

local function check_ttl(self, ttl, what)
  if ttl == nil then return 0 end
  if type(ttl) ~= "number" or ttl ~= ttl or ttl < 0 then
    error(("shared dict %q: %s: ttl must be a number of seconds >= 0 "
           .. "(0: no expiry), got %s"):format(self.name, what, tostring(ttl)), 3)
  end
  return ttl
end

local value_types = { string = true, number = true, boolean = true }

local function check_value(self, value, what, allow_nil)
  if value == nil and allow_nil then return end
  if not value_types[type(value)] then
    error(("shared dict %q: %s: values are strings, numbers or booleans, "
           .. "got %s (encode tables with cjson)"):format(self.name, what,
           type(value)), 3)
  end
end

-- shared(name): the dictionary declared under that name in the
-- configuration.
function M.open(name)
  if type(name) ~= "string" then
    error("perigee.shared(name): name must be a string, got " .. type(name), 2)
  end
  local d = cache[name]
  if d then return d end
  local backend = runtime.shared_backend
  if not backend then
    error("perigee.shared(" .. name .. "): shared dictionaries are not "
          .. "available here (no backend set by the host)", 2)
  end
  local h, err = backend.open(name)
  if not h then error("perigee.shared(" .. name .. "): " .. tostring(err), 2) end
  d = setmetatable({ name = name, h = h }, Dict)
  cache[name] = d
  return d
end

-- reset(): forget the cached objects (when the backend changes).
function M.reset()
  cache = {}
end

-- get(key) -> value or nil
function Dict:get(key)
  check_key(self, key, "get")
  return self.h:get(key)
end

-- set(key, value[, ttl]) -> true, nil, forcible | nil, err. A nil value
-- deletes.
function Dict:set(key, value, ttl)
  check_key(self, key, "set")
  check_value(self, value, "set", true)
  return self.h:store("set", key, value, check_ttl(self, ttl, "set"))
end

-- add(key, value[, ttl]): set only when absent (or expired); nil,
-- "exists" otherwise. The atomic "take a lock" or "first writer wins".
function Dict:add(key, value, ttl)
  check_key(self, key, "add")
  check_value(self, value, "add")
  return self.h:store("add", key, value, check_ttl(self, ttl, "add"))
end

-- replace(key, value[, ttl]): set only when present; nil, "not found"
-- otherwise.
function Dict:replace(key, value, ttl)
  check_key(self, key, "replace")
  check_value(self, value, "replace")
  return self.h:store("replace", key, value, check_ttl(self, ttl, "replace"))
end

-- incr(key[, delta=1[, init[, init_ttl]]]) -> new value | nil, err.
-- Absent keys start at init (when given, with init_ttl) or fail with
-- "not found". The TTL of an existing key is kept.
function Dict:incr(key, delta, init, init_ttl)
  check_key(self, key, "incr")
  delta = delta or 1
  if type(delta) ~= "number" then
    error(("shared dict %q: incr: delta must be a number, got %s")
          :format(self.name, type(delta)), 2)
  end
  if init ~= nil and type(init) ~= "number" then
    error(("shared dict %q: incr: init must be a number, got %s")
          :format(self.name, type(init)), 2)
  end
  return self.h:incr(key, delta, init, check_ttl(self, init_ttl, "incr"))
end

function Dict:delete(key)
  check_key(self, key, "delete")
  self.h:delete(key)
end

-- ttl(key) -> seconds left (0: no expiry) | nil, "not found"
function Dict:ttl(key)
  check_key(self, key, "ttl")
  return self.h:ttl(key)
end

-- expire(key, ttl) -> true | nil, "not found"
function Dict:expire(key, ttl)
  check_key(self, key, "expire")
  return self.h:expire(key, check_ttl(self, ttl, "expire"))
end

function Dict:flush_all() self.h:flush_all() end

function Dict:flush_expired(max) return self.h:flush_expired(max or 0) end

function Dict:keys(max) return self.h:keys(max or 1024) end

function Dict:capacity() return self.h:capacity() end

function Dict:free_space() return self.h:free_space() end

function Dict:stats() return self.h:stats() end

return M
