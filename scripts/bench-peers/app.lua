-- scripts/bench-peers/app.lua -- Perigee's side of scripts/bench:
-- examples/auth as it is (a bearer-token middleware, then a per-user
-- counter in a shared dictionary; scripts/bench sets PERIGEE_RATE_LIMIT so
-- high that it never refuses) with the two routes of examples/hello.
-- scripts/bench-peers/nginx.conf does the same with lua-nginx-module:
-- change both together.
--
--   GET /              "Hello from Perigee\n"
--   GET /hello/:name   {"hello":NAME}
--   GET /api/me        Authorization: Bearer s3cret -> {"user":"alice"}
--   GET /static/NAME   the files scripts/bench writes into
--                      $PERIGEE_BENCH_STATIC (nginx: sendfile on)
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local app = dofile(here .. "/../../examples/auth/app.lua")

app:get("/", function(_, res) res:send("Hello from Perigee\n") end)
app:get("/hello/:name", function(req, res)
  res:json({ hello = req.params.name })
end)

local static = os.getenv("PERIGEE_BENCH_STATIC")
if static then app:static("/static", static) end

return app
