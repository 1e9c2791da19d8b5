-- app:static and res:sendfile, the handler's side: routing under a prefix,
-- middleware before any file access, refused paths, directories and their
-- index, HEAD, option checks. The HTTP semantics of files (validators,
-- 304/412, ranges, precompressed siblings) are the server's C code:
-- tests/unit/http/test_file.c and tests/t/120-static.t.
local perigee = require("perigee")
local t = require("perigee.test")

local root

local function put(rel, data)
  local f = assert(io.open(root .. "/" .. rel, "wb"))
  f:write(data)
  f:close()
end

local function app_with(opts, mw)
  local app = perigee.app()
  if mw then app:use("/files", mw) end
  app:static("/files", root, opts)
  return app
end

describe("app:static", function()
  before_each(function()
    t.reset()
    root = os.tmpname()
    os.remove(root)
    assert(os.execute("mkdir -p " .. root .. "/sub " .. root .. "/bare"))
    put("a.txt", "hello file")
    put("sub/index.html", "<p>index</p>")
    put(".secret", "no")
  end)
  after_each(function() os.execute("rm -rf " .. root) end)

  it("serves a file beneath its directory", function()
    local r = t.request(app_with(), { path = "/files/a.txt" })
    assert.equal(200, r.status)
    assert.equal("hello file", r.body)
    assert.equal("10", r.headers["content-length"])
    assert.is_truthy(r.headers["etag"])
  end)

  it("runs the middleware of its prefix before touching a file", function()
    local seen = 0
    local app = app_with(nil, function(req, res, nxt)
      seen = seen + 1
      if req.headers.authorization ~= "Bearer ok" then
        return res:status(401):send("no")
      end
      return nxt()
    end)
    local h = t.start(app, { path = "/files/a.txt" })
    local r = h:wait()
    assert.equal(401, r.status)
    assert.is_nil(h.transport.files)
    r = t.request(app, { path = "/files/a.txt",
                         headers = { authorization = "Bearer ok" } })
    assert.equal(200, r.status)
    assert.equal(2, seen)
  end)

  it("refuses dot files, and 404s what is not there", function()
    assert.equal(404, t.request(app_with(), { path = "/files/.secret" }).status)
    assert.equal(404, t.request(app_with(), { path = "/files/nope" }).status)
    local r = t.request(app_with({ dotfiles = true }), { path = "/files/.secret" })
    assert.equal(200, r.status)
  end)

  it("never leaves the root, encoded or not", function()
    for _, p in ipairs({ "/files/../a.txt", "/files/%2e%2e/%2e%2e/etc/passwd",
                         "/files/sub/..%2f..%2fa.txt" }) do
      local st = t.request(app_with(), { path = p }).status
      assert.is_true(st == 403 or st == 404, p .. " gave " .. st)
    end
  end)

  it("redirects a directory to its / form and serves its index", function()
    local r = t.request(app_with(), { path = "/files/sub?x=1" })
    assert.equal(301, r.status)
    assert.equal("/files/sub/?x=1", r.headers.location)
    r = t.request(app_with(), { path = "/files/sub/" })
    assert.equal(200, r.status)
    assert.equal("<p>index</p>", r.body)
    assert.equal(403, t.request(app_with(), { path = "/files/bare/" }).status)
    assert.equal(403, t.request(app_with({ index = false }), { path = "/files/sub/" }).status)
  end)

  it("answers HEAD with the head only", function()
    local r = t.request(app_with(), { method = "HEAD", path = "/files/a.txt" })
    assert.equal(200, r.status)
    assert.equal("", r.body)
    assert.equal("10", r.headers["content-length"])
  end)

  it("takes content types and Cache-Control from opts", function()
    local r = t.request(app_with({ types = { txt = "text/x-mine" },
                                   cache_control = "max-age=60" }),
                        { path = "/files/a.txt" })
    assert.equal("text/x-mine", r.headers["content-type"])
    assert.equal("max-age=60", r.headers["cache-control"])
  end)

  it("checks its arguments", function()
    local app = perigee.app()
    assert.has_error(function() app:static("files", root) end,
                     "app:static(): the prefix must start with '/', got files")
    assert.has_error(function() app:static("/f", 7) end,
                     "app:static(): dir must be a directory path, got 7")
  end)
end)

describe("app:static with a relative dir", function()
  before_each(function() t.reset() end)

  it("takes it from the directory of the file that calls it", function()
    local app = perigee.app()
    app:static("/me", ".")             -- this spec's own directory
    local r = t.request(app, { path = "/me/static_spec.lua" })
    assert.equal(200, r.status)
    assert.matches("takes it from the directory", r.body, 1, true)
  end)
end)

describe("res:sendfile", function()
  before_each(function()
    t.reset()
    root = os.tmpname()
    os.remove(root)
    assert(os.execute("mkdir -p " .. root))
    put("a.txt", "hello file")
  end)
  after_each(function() os.execute("rm -rf " .. root) end)

  it("sends an absolute path from a handler", function()
    local app = perigee.app()
    app:get("/dl", function(_, res) return res:sendfile(root .. "/a.txt") end)
    local r = t.request(app, { path = "/dl" })
    assert.equal(200, r.status)
    assert.equal("hello file", r.body)
  end)

  it("wants an absolute path without opts.root", function()
    local app = perigee.app()
    app:get("/dl", function(_, res) return res:sendfile("a.txt") end)
    assert.equal(500, t.request(app, { path = "/dl" }).status)
    assert.matches("the path must be absolute", t.errors(), 1, true)
  end)

  it("raises 404 through the app's error handlers", function()
    local app = perigee.app()
    local seen
    app:error(function(err, _, res)
      seen = err.status
      return res:status(err.status):send("custom " .. err.status)
    end)
    app:get("/dl", function(_, res) return res:sendfile("nope", { root = root }) end)
    local r = t.request(app, { path = "/dl" })
    assert.equal(404, seen)
    assert.equal("custom 404", r.body)
  end)

  it("refuses .. beneath a root", function()
    local app = perigee.app()
    app:get("/dl", function(_, res) return res:sendfile("../a.txt", { root = root }) end)
    assert.equal(403, t.request(app, { path = "/dl" }).status)
  end)
end)
