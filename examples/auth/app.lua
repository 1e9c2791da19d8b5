-- examples/auth -- bearer token authentication in a middleware, and a
-- per-client rate limit kept in a shared dictionary (so that the limit
-- holds across every worker).
--
-- Tokens come from the environment at load time (PERIGEE_TOKENS="alice:
-- s3cret,bob:hunter2"), read once when the app loads, never per request;
-- so does the limit (PERIGEE_RATE_LIMIT, default 5).
local perigee = require("perigee")

-- LIMIT requests per client per WINDOW seconds
local LIMIT = tonumber(os.getenv("PERIGEE_RATE_LIMIT")) or 5
local WINDOW = 60

local tokens = {}
for pair in (os.getenv("PERIGEE_TOKENS") or "alice:s3cret"):gmatch("[^,]+") do
  local user, token = pair:match("^([^:]+):(.+)$")
  if user then tokens[token] = user end
end

local app = perigee.app()
local limits = perigee.shared("ratelimit")

-- Public routes, before the middleware's prefix.
app:get("/health", function(_, res) res:send("ok\n") end)

-- access phase: who is calling?
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

-- access phase: may they call again? A fixed window per user: the counter
-- is created with the window as its TTL and counts until it expires.
app:use("/api", function(req, res, next)
  local key = "rl:" .. req.ctx.user
  local n, err = limits:incr(key, 1, 0, WINDOW)
  if not n then
    perigee.log("warn", "rate limit unavailable:", err)
    return next()                     -- fail open: the dict is full
  end
  res:set("RateLimit-Limit", LIMIT):set("RateLimit-Remaining", math.max(0, LIMIT - n))
  if n > LIMIT then
    res:set("Retry-After", math.ceil(limits:ttl(key)))
    return res:status(429):json({ error = "too many requests" })
  end
  return next()
end)

app:get("/api/me", function(req, res)
  res:json({ user = req.ctx.user })
end)

return app
