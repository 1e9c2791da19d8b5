local url = require("perigee.url")

describe("perigee.url", function()
  it("parses query strings: repeated keys, empty and bare keys", function()
    assert.same({ a = { "1", "2" }, b = "", c = true, ["d e"] = "f g" },
                url.parse_query("a=1&a=2&b=&c&d+e=f%20g"))
    assert.same({}, url.parse_query(""))
    assert.same({}, url.parse_query(nil))
  end)

  it("stops at max_args", function()
    local args, err = url.parse_query("a=1&b=2&c=3", 2)
    assert.same({ a = "1", b = "2" }, args)
    assert.equal("truncated", err)
  end)

  it("escapes, unescapes and encodes", function()
    assert.equal("a%20b%2F%C3%A9", url.escape("a b/\195\169"))
    assert.equal("a b/", url.unescape("a+b%2f"))
    assert.equal("a=1&a=2&b=x%20y&c", url.encode_query({ a = { 1, 2 }, b = "x y", c = true }))
  end)
end)
