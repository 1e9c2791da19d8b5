-- scripts/bench-peers/app.lua -- Perigee's side of scripts/bench: the handlers
-- of examples/hello (text, JSON with a route parameter) and examples/auth
-- (a bearer-token middleware, then a per-user counter in a shared
-- dictionary) in one app. scripts/bench-peers/nginx.conf serves the same with
-- lua-nginx-module; change both together.
--
--   GET /              "Hello from Perigee\n"
--   GET /hello/:name   {"hello":NAME}
--   GET /api/me        Authorization: Bearer s3cret -> {"user":"alice","calls":N}
local perigee = require("perigee")

local WINDOW = 60                  -- the counter's TTL, as examples/auth
local tokens = { s3cret = "alice" }

local app = perigee.app()
local counters = perigee.shared("counters")

app:get("/", function(req, res)
  res:send("Hello from Perigee\n")
end)

app:get("/hello/:name", function(req, res)
  res:json({ hello = req.params.name })
end)

app:use("/api", function(req, res, next)
  local token = (req.headers.authorization or ""):match("^Bearer%s+(%S+)$")
  local user = token and tokens[token]
  if not user then
    res:set("WWW-Authenticate", 'Bearer realm="perigee"')
    return res:status(401):json({ error = "a valid bearer token is required" })
  end
  req.ctx.user = user
  return next()
end)

app:use("/api", function(req, res, next)
  req.ctx.calls = counters:incr("calls:" .. req.ctx.user, 1, 0, WINDOW)
  return next()
end)

app:get("/api/me", function(req, res)
  res:json({ user = req.ctx.user, calls = req.ctx.calls })
end)

return app
