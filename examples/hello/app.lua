-- examples/hello -- the smallest Perigee app.
local perigee = require("perigee")

local app = perigee.app()

app:get("/", function(req, res)
  res:send("Hello from Perigee\n")
end)

app:get("/hello/:name", function(req, res)
  res:json({ hello = req.params.name })
end)

return app
