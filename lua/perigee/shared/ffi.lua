-- perigee.shared.ffi -- the shared-dictionary backend of the server: the
-- dictionaries of core/pg_shdict.c in DPDK shared memory, seen by every
-- worker, reached through LuaJIT FFI. Same contract as
-- perigee.shared.memory (see the top of perigee/shared.lua); TTLs are
-- seconds here, milliseconds in C.
local ffi = require("ffi")

ffi.cdef[[
struct pg_shdict;
struct pg_shdict_value {
  int type; const char *str; size_t len; double num; int boolean;
  uint32_t flags;
};
struct pg_shdict_stats {
  uint64_t capacity, free, items, evictions, expired, recoveries;
};
void pg_shdict_stats(const struct pg_shdict *d, struct pg_shdict_stats *st);
struct pg_shdict *pg_shdict_find(const char *name);
int pg_shdict_get(struct pg_shdict *d, const char *key, size_t klen,
                  struct pg_shdict_value *v, char *buf, size_t buflen,
                  const char **err);
int pg_shdict_set(struct pg_shdict *d, const char *key, size_t klen,
                  const struct pg_shdict_value *v, uint64_t ttl_ms,
                  int *forcible, const char **err);
int pg_shdict_add(struct pg_shdict *d, const char *key, size_t klen,
                  const struct pg_shdict_value *v, uint64_t ttl_ms,
                  int *forcible, const char **err);
int pg_shdict_replace(struct pg_shdict *d, const char *key, size_t klen,
                      const struct pg_shdict_value *v, uint64_t ttl_ms,
                      int *forcible, const char **err);
int pg_shdict_incr(struct pg_shdict *d, const char *key, size_t klen,
                   double delta, int has_init, double init,
                   uint64_t init_ttl_ms, double *out, int *forcible,
                   const char **err);
int pg_shdict_delete(struct pg_shdict *d, const char *key, size_t klen,
                     const char **err);
int pg_shdict_ttl(struct pg_shdict *d, const char *key, size_t klen,
                  uint64_t *ttl_ms, const char **err);
int pg_shdict_expire(struct pg_shdict *d, const char *key, size_t klen,
                     uint64_t ttl_ms, const char **err);
void pg_shdict_flush_all(struct pg_shdict *d);
unsigned pg_shdict_flush_expired(struct pg_shdict *d, unsigned max);
int pg_shdict_keys(struct pg_shdict *d, unsigned max, char *buf,
                   size_t buflen, size_t *used);
uint64_t pg_shdict_free_space(struct pg_shdict *d);
uint64_t pg_shdict_capacity(struct pg_shdict *d);
]]

local C = ffi.C
local OK, AGAIN = 0, -2
local NIL, BOOLEAN, NUMBER, STRING = 0, 1, 3, 4

local val = ffi.new("struct pg_shdict_value")
local errp = ffi.new("const char *[1]")
local forcible = ffi.new("int[1]")
local out = ffi.new("double[1]")
local ttl = ffi.new("uint64_t[1]")
local used = ffi.new("size_t[1]")
local bufsize = 4096
local buf = ffi.new("char[?]", bufsize)

local M = {}
local H = {}
H.__index = H

local function ms(seconds)
  return seconds and seconds > 0 and math.ceil(seconds * 1000) or 0
end

local function fill(value)
  local t = type(value)
  val.str, val.len = nil, 0
  if t == "string" then
    val.type, val.str, val.len = STRING, value, #value
  elseif t == "number" then
    val.type, val.num = NUMBER, value
  elseif t == "boolean" then
    val.type, val.boolean = BOOLEAN, value and 1 or 0
  else
    val.type = NIL
  end
end

function M.open(name)
  local d = C.pg_shdict_find(name)
  if d == nil then
    return nil, ("no shared dictionary %q: declare it in the configuration "
                 .. "(shared = { %s = bytes })"):format(name, name)
  end
  return setmetatable({ d = d, name = name }, H)
end

function H:get(key)
  while true do
    local rc = C.pg_shdict_get(self.d, key, #key, val, buf, bufsize, errp)
    if rc == OK then
      if val.type == STRING then return ffi.string(val.str, val.len) end
      if val.type == NUMBER then return val.num end
      if val.type == BOOLEAN then return val.boolean ~= 0 end
      return nil
    elseif rc == AGAIN then
      bufsize = tonumber(val.len) + 1   -- grow to the value and retry
      buf = ffi.new("char[?]", bufsize)
    else
      return nil
    end
  end
end

local stores = { set = C.pg_shdict_set, add = C.pg_shdict_add,
                 replace = C.pg_shdict_replace }

function H:store(mode, key, value, seconds)
  fill(value)
  forcible[0] = 0
  local rc = stores[mode](self.d, key, #key, val, ms(seconds), forcible, errp)
  if rc == OK then return true, nil, forcible[0] ~= 0 end
  return nil, ffi.string(errp[0])
end

function H:incr(key, delta, init, init_ttl)
  local rc = C.pg_shdict_incr(self.d, key, #key, delta, init ~= nil and 1 or 0,
                              init or 0, ms(init_ttl), out, forcible, errp)
  if rc == OK then return out[0] end
  return nil, ffi.string(errp[0])
end

function H:delete(key)
  C.pg_shdict_delete(self.d, key, #key, errp)
end

function H:ttl(key)
  if C.pg_shdict_ttl(self.d, key, #key, ttl, errp) ~= OK then
    return nil, "not found"
  end
  return tonumber(ttl[0]) / 1000
end

function H:expire(key, seconds)
  if C.pg_shdict_expire(self.d, key, #key, ms(seconds), errp) ~= OK then
    return nil, "not found"
  end
  return true
end

function H:flush_all() C.pg_shdict_flush_all(self.d) end

function H:flush_expired(max)
  return tonumber(C.pg_shdict_flush_expired(self.d, max or 0))
end

function H:keys(max)
  while true do
    local rc = C.pg_shdict_keys(self.d, max or 0, buf, bufsize, used)
    if rc == AGAIN then
      bufsize = tonumber(used[0])
      buf = ffi.new("char[?]", bufsize)
    else
      local keys, p, n = {}, 0, tonumber(used[0])
      while p + 2 <= n do
        local len = ffi.cast("uint8_t *", buf)[p]
                    + ffi.cast("uint8_t *", buf)[p + 1] * 256
        keys[#keys + 1] = ffi.string(buf + p + 2, len)
        p = p + 2 + len
      end
      return keys
    end
  end
end

function H:capacity() return tonumber(C.pg_shdict_capacity(self.d)) end
function H:free_space() return tonumber(C.pg_shdict_free_space(self.d)) end

local st = ffi.new("struct pg_shdict_stats")

function H:stats()
  C.pg_shdict_stats(self.d, st)
  return { capacity = tonumber(st.capacity),
           used = tonumber(st.capacity - st.free),
           entries = tonumber(st.items), evictions = tonumber(st.evictions) }
end

return M
