local t = require("perigee.test")

describe("json-api", function()
  local app
  before_each(function()
    t.reset()                       -- empty shared dictionaries
    app = t.load_app("../app.lua")
  end)

  local function create(text)
    return t.request(app, { method = "POST", path = "/api/notes", json = { text = text } })
  end

  it("creates and reads notes by id", function()
    local r = create("first")
    assert.equal(201, r.status)
    assert.equal("/api/notes/1", r.headers.location)
    assert.same({ id = 1, text = "first" }, r.json())
    assert.same({ id = 1, text = "first" }, t.request(app, { path = "/api/notes/1" }).json())
  end)

  it("lists with a limit from the query string", function()
    create("a"); create("b"); create("c")
    local r = t.request(app, { path = "/api/notes", query = { limit = 2 } })
    assert.equal(2, r.json().count)
    assert.equal("b", r.json().notes[2].text)
  end)

  it("replaces and deletes", function()
    create("a")
    local r = t.request(app, { method = "PUT", path = "/api/notes/1", json = { text = "b" } })
    assert.same({ id = 1, text = "b" }, r.json())
    assert.equal(204, t.request(app, { method = "DELETE", path = "/api/notes/1" }).status)
    assert.equal(404, t.request(app, { path = "/api/notes/1" }).status)
  end)

  it("answers 404, 405, 413, 422 and 400 with a reason", function()
    local r = t.request(app, { path = "/api/notes/9", headers = { Accept = "application/json" } })
    assert.same({ error = "no note 9", status = 404 }, { error = r.json().error, status = r.json().status })
    assert.equal(405, t.request(app, { method = "PATCH", path = "/api/notes/1" }).status)
    assert.equal(413, t.request(app, { method = "POST", path = "/api/notes",
                                       json = { text = ("x"):rep(70000) } }).status)
    assert.equal(422, t.request(app, { method = "POST", path = "/api/notes", json = { nope = 1 } }).status)
    assert.equal(400, t.request(app, { method = "POST", path = "/api/notes", body = "{" }).status)
  end)
end)
