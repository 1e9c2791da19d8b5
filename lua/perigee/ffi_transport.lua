-- perigee.ffi_transport -- the transport of a request served by the C
-- worker (lua/pg_lua_http.c), through LuaJIT FFI: the request head is read
-- from the C message without copying until Lua asks, the body and the
-- response go straight to the HTTP/1.1 connection. Lua never holds an
-- mbuf. The interface is the one perigee.host expects (docs/lua-api.md,
-- "Host interface"); perigee.test's transport is its in-process twin.
local ffi = require("ffi")
local runtime = require("perigee.runtime")
local host = require("perigee.host")

ffi.cdef[[
struct pg_lua_req;
int pg_lua_ffi_head(struct pg_lua_req *r, int what, const char **p,
                    uint32_t *len);
int pg_lua_ffi_nheaders(struct pg_lua_req *r);
int pg_lua_ffi_header(struct pg_lua_req *r, int i, const char **n,
                      uint32_t *nl, const char **v, uint32_t *vl);
int pg_lua_ffi_remote(struct pg_lua_req *r, char *addr, uint32_t len);
void pg_lua_ffi_set_id(struct pg_lua_req *r, const char *id, uint32_t len);
int pg_lua_ffi_body_read(struct pg_lua_req *r, char *buf, uint32_t len);
int pg_lua_ffi_respond(struct pg_lua_req *r, int status, int n,
                       const char **names, const uint32_t *nlens,
                       const char **values, const uint32_t *vlens,
                       int64_t clen, int end, const char **err);
int pg_lua_ffi_write(struct pg_lua_req *r, const char *buf, uint32_t len,
                     int last);
void pg_lua_ffi_wait(struct pg_lua_req *r, int task);
void pg_lua_ffi_abort(struct pg_lua_req *r);

struct pg_lua_file;
struct pg_lua_file_info {
  int status;
  int is_dir;
  uint64_t len, size;
  const char *name;
  const char *type;
  const char *encoding;
  char etag[48];
  char last_modified[30];
  char content_range[64];
  const char *listing;
  uint32_t listing_len;
  int listing_truncated;
};
struct pg_lua_file *pg_lua_ffi_file_open(struct pg_lua_req *r,
                                         const char *root, const char *path,
                                         uint32_t len, unsigned flags,
                                         const char *index, int *status);
int pg_lua_ffi_file_ready(const struct pg_lua_file *f);
void pg_lua_ffi_file_info(struct pg_lua_file *f, struct pg_lua_file_info *out);
int pg_lua_ffi_file_pump(struct pg_lua_file *f);
void pg_lua_ffi_file_close(struct pg_lua_file *f);
]]

local C = ffi.C
local M = {}

local HEAD_METHOD, HEAD_TARGET, HEAD_VERSION = 0, 1, 2
-- Framing is the connection's business: these never go through.
local FRAMING = { ["content-length"] = true, ["transfer-encoding"] = true,
                  ["connection"] = true }

local sp, lp = ffi.new("const char *[1]"), ffi.new("uint32_t[1]")
local vp, vlp = ffi.new("const char *[1]"), ffi.new("uint32_t[1]")
local errp = ffi.new("const char *[1]")
local BUF = 16384
local buf = ffi.new("char[?]", BUF)
local addr = ffi.new("char[64]")

local function head(r, what)
  if C.pg_lua_ffi_head(r, what, sp, lp) ~= 0 then return nil end
  return ffi.string(sp[0], lp[0])
end

local T = {}
T.__index = T

-- Suspend the current task until C wakes it (body data, drained window).
local function wait(self)
  local s = runtime.sched
  C.pg_lua_ffi_wait(self.r, s:current().id)
  s:suspend()
end

function T:headers()
  if self.list then return self.list end
  local list = {}
  for i = 0, C.pg_lua_ffi_nheaders(self.r) - 1 do
    C.pg_lua_ffi_header(self.r, i, sp, lp, vp, vlp)
    list[#list + 1] = { ffi.string(sp[0], lp[0]), ffi.string(vp[0], vlp[0]) }
  end
  self.list = list
  return list
end

function T:read_body(max)
  while true do
    local n = C.pg_lua_ffi_body_read(self.r, buf, math.min(max, BUF))
    if n > 0 then return ffi.string(buf, n) end
    if n == -1 then return nil end
    if n == -2 then return nil, "closed" end
    wait(self)
  end
end

-- Response head arrays, reused by every response (C copies the fields
-- into the head before pg_lua_ffi_respond returns).
local MAX_FIELDS = 128                  -- PG_LUA_MAX_FIELDS
local names = ffi.new("const char *[?]", MAX_FIELDS)
local nlens = ffi.new("uint32_t[?]", MAX_FIELDS)
local values = ffi.new("const char *[?]", MAX_FIELDS)
local vlens = ffi.new("uint32_t[?]", MAX_FIELDS)

function T:send_headers(status, list)
  if #list > MAX_FIELDS then return nil, "too many response header fields" end
  local n, clen = 0, -1
  local anchor = {}               -- strings made here live through the call
  for _, f in ipairs(list) do
    local name, value = f[1], f[2]
    if type(value) ~= "string" then
      value = tostring(value)
      anchor[#anchor + 1] = value
    end
    local lname = name:lower()
    if lname == "content-length" then
      clen = tonumber(value) or -1
    elseif not FRAMING[lname] then
      names[n], nlens[n], values[n], vlens[n] = name, #name, value, #value
      n = n + 1
    end
  end
  local bodyless = self.method == "HEAD" or status == 204 or status == 304
  local rc = C.pg_lua_ffi_respond(self.r, status, n, names, nlens, values,
                                  vlens, clen, bodyless and 1 or 0, errp)
  anchor = nil
  if rc == -2 then return nil, "closed" end
  if rc ~= 0 then return nil, ffi.string(errp[0]) end
  self.sent_end = bodyless
  return true
end

function T:write(chunk)
  if self.sent_end or #chunk == 0 then return true end
  local rc = C.pg_lua_ffi_write(self.r, chunk, #chunk, 0)
  if rc == -2 then return nil, "closed" end
  if rc < 0 then return nil, "write failed" end
  while rc == 1 do               -- over the high-water mark: drain first
    wait(self)
    rc = C.pg_lua_ffi_write(self.r, nil, 0, -1)
    if rc == -2 then return nil, "closed" end
  end
  return true
end

function T:finish()
  if self.sent_end then return true end
  self.sent_end = true
  local rc = C.pg_lua_ffi_write(self.r, nil, 0, 1)
  if rc == -2 then return nil, "closed" end
  return true
end

function T:abort()
  C.pg_lua_ffi_abort(self.r)
end

-- Files (res:sendfile): opened and read by the worker's file cache, the
-- body sent as mbufs over the cached pages (lua/pg_lua_file.c).
local FILE_FLAGS = { dotfiles = 0x1, symlinks = 0x2, listing = 0x4,
                     precompressed = 0x100 }
local statusp = ffi.new("int[1]")
local info = ffi.new("struct pg_lua_file_info")

local function file_close(f)
  ffi.gc(f, nil)
  C.pg_lua_ffi_file_close(f)
end

-- file_open(root, path, opts) -> f, info | nil, { status = 4xx/5xx }.
-- opts: dotfiles, symlinks, listing, precompressed (flags), index (a file
-- name). A directory without index, with opts.listing: nil, { is_dir,
-- listing (records "<d|f|l><size> <mtime> <name>\0"), listing_truncated }.
function T:file_open(root, path, opts)
  local flags = 0
  for k, bit in pairs(FILE_FLAGS) do
    if opts[k] then flags = flags + bit end
  end
  local f = C.pg_lua_ffi_file_open(self.r, root, path, #path, flags,
                                   opts.index or "", statusp)
  if f == nil then return nil, { status = statusp[0] } end
  f = ffi.gc(f, C.pg_lua_ffi_file_close)
  while C.pg_lua_ffi_file_ready(f) == 0 do wait(self) end
  C.pg_lua_ffi_file_info(f, info)
  local t = {
    status = info.status, is_dir = info.is_dir ~= 0,
    len = tonumber(info.len), size = tonumber(info.size),
  }
  if info.status >= 400 and info.status ~= 412 and info.status ~= 416 then
    if info.listing ~= nil then
      t.listing = ffi.string(info.listing, info.listing_len)
      t.listing_truncated = info.listing_truncated ~= 0
    end
    file_close(f)
    return nil, t
  end
  t.name = ffi.string(info.name)
  t.type = ffi.string(info.type)
  t.encoding = info.encoding ~= nil and ffi.string(info.encoding) or nil
  t.etag = ffi.string(info.etag)
  t.last_modified = ffi.string(info.last_modified)
  t.content_range = ffi.string(info.content_range)
  return f, t
end

-- file_send(f): the body span file_open chose, then the end of the body.
function T:file_send(f)
  while true do
    local rc = C.pg_lua_ffi_file_pump(f)
    if rc == 0 then break end
    -- The file changed or cannot be read: C reset the exchange, the
    -- client sees the response cut short, as when it went away.
    if rc < 0 then file_close(f); return nil, "closed" end
    wait(self)
  end
  self.sent_end = true
  file_close(f)
  return true
end

T.file_close = file_close

-- serve(app, lud): called by the C worker for each request; lud is its
-- struct pg_lua_req. Returns the task id.
function M.serve(app, lud, done)
  local r = ffi.cast("struct pg_lua_req *", lud)
  local t = setmetatable({ r = r }, T)
  t.method = head(r, HEAD_METHOD)
  t.target = head(r, HEAD_TARGET)
  t.version = head(r, HEAD_VERSION)
  local n = C.pg_lua_ffi_remote(r, addr, 64)
  t.remote_addr = ffi.string(addr)
  t.remote_port = n
  t.id = host.next_id()
  C.pg_lua_ffi_set_id(r, t.id, #t.id)
  local task = host.serve(app, t, function(info) done(lud, info) end)
  return task.id
end

return M
