-- examples/json-api -- a small JSON API over a shared dictionary: path
-- parameters, query parameters, JSON bodies, HTTP errors.
--
--   GET    /api/notes?limit=10     list
--   POST   /api/notes              create  { "text": "..." }
--   GET    /api/notes/:id          read
--   PUT    /api/notes/:id          replace { "text": "..." }
--   DELETE /api/notes/:id          delete
--
-- Notes live in perigee.shared("notes") (declare it in the configuration:
-- shared_dicts = { notes = "10m" }), so every worker sees them.
local perigee = require("perigee")
local cjson = require("cjson")

local app = perigee.app({ body_limit = 64 * 1024 })
local notes = perigee.shared("notes")

local function load(id)
  local raw = notes:get("note:" .. id)
  if not raw then perigee.http_error(404, "no note " .. id) end
  return cjson.decode(raw)
end

local function text_of(req)
  local body = req:json()
  if type(body) ~= "table" or type(body.text) ~= "string" or body.text == "" then
    perigee.http_error(422, 'expected { "text": "..." }')
  end
  return body.text
end

app:group("/api/notes", function(api)
  api:get("/", function(req, res)
    local limit = tonumber(req.query.limit) or 10
    local list = {}
    for i = 1, notes:get("last") or 0 do
      local raw = notes:get("note:" .. i)
      if raw then list[#list + 1] = cjson.decode(raw) end
      if #list >= limit then break end
    end
    res:json({ notes = list, count = #list })
  end)

  api:post("/", function(req, res)
    local text = text_of(req)
    local id = notes:incr("last", 1, 0)
    local note = { id = id, text = text }
    notes:set("note:" .. id, cjson.encode(note))
    res:status(201):set("Location", "/api/notes/" .. id):json(note)
  end)

  api:get("/:id", function(req, res)
    res:json(load(req.params.id))
  end)

  api:put("/:id", function(req, res)
    local note = load(req.params.id)
    note.text = text_of(req)
    notes:set("note:" .. note.id, cjson.encode(note))
    res:json(note)
  end)

  api:delete("/:id", function(req, res)
    load(req.params.id)
    notes:delete("note:" .. req.params.id)
    res:status(204):send()
  end)
end)

return app
