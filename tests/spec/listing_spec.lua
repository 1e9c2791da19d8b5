-- perigee.listing: the records of the file cache into an HTML page.
local listing = require("perigee.listing")

describe("perigee.listing", function()
  it("parses records, directories first, then by name", function()
    local l = listing.parse("f12 1700000000 b.txt\0" .. "d4096 1700000000 zdir\0"
      .. "l7 1700000000 link\0" .. "f0 1700000000 a b\0" .. "garbage\0")
    assert.same({ "zdir", "a b", "b.txt", "link" },
                { l[1].name, l[2].name, l[3].name, l[4].name })
    assert.equal("d", l[1].kind)
    assert.equal(12, l[3].size)
    assert.equal(4, #l)
  end)

  it("escapes names in the page and in the links", function()
    local page = listing.render("/files/<x>/", listing.parse(
      "f3 0 a&b <c>.txt\0d0 0 sub\0"), false)
    assert.matches('<a href="a%%26b%%20%%3Cc%%3E.txt">a&amp;b &lt;c&gt;.txt</a>', page)
    assert.matches('<a href="sub/">sub/</a>', page, 1, true)
    assert.matches("Index of /files/&lt;x&gt;/", page, 1, true)
    assert.matches('<a href="../">../</a>', page, 1, true)
    assert.is_nil(page:find("cut short", 1, true))
  end)

  it("says when the listing was cut short, and has no ../ at the root", function()
    local page = listing.render("/", {}, true)
    assert.matches("cut short", page, 1, true)
    assert.is_nil(page:find("../", 1, true))
  end)
end)
