-- examples/files -- static files behind a bearer token: public/ for
-- everyone at /, private/ for alice at /private/ (the token is checked
-- before any file is opened; the private directory may be listed).
local perigee = require("perigee")

local app = perigee.app()
local tokens = { s3cret = "alice" }

app:use("/private", function(req, res, next)
  local token = (req.headers.authorization or ""):match("^Bearer%s+(%S+)$")
  if not tokens[token or ""] then
    res:status(401):set("WWW-Authenticate", 'Bearer realm="files"')
    return res:send("a valid bearer token is required\n")
  end
  return next()
end)

-- Relative directories are taken from this file's directory.
app:static("/private", "private", { listing = true })
app:static("/", "public", { cache_control = "max-age=3600",
                            precompressed = true })

return app
