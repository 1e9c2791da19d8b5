-- perigee.listing -- the HTML page of a directory listing (app:static and
-- res:sendfile with listing = true). The entries come from the worker's
-- file cache as records "<d|f|l><size> <mtime> <name>\0" (http/pg_fcache.h);
-- directories come first, then files, each by name. Names are escaped for
-- the HTML and percent-encoded in the links.

local url = require("perigee.url")

local M = {}

local ENTITIES = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
                   ['"'] = "&quot;", ["'"] = "&#39;" }

local function html(s)
  return (s:gsub("[&<>\"']", ENTITIES))
end
M.html = html

-- parse(records) -> array of { kind = "d" | "f" | "l", size, mtime, name }
-- in display order.
function M.parse(records)
  local list = {}
  for rec in records:gmatch("([^%z]+)%z") do
    local kind, size, mtime, name = rec:match("^([dfl])(%d+) (%-?%d+) (.+)$")
    if kind then
      list[#list + 1] = { kind = kind, size = tonumber(size),
                          mtime = tonumber(mtime), name = name }
    end
  end
  table.sort(list, function(a, b)
    if (a.kind == "d") ~= (b.kind == "d") then return a.kind == "d" end
    return a.name < b.name
  end)
  return list
end

-- render(path, list, truncated) -> the page of the directory at the
-- request path (which ends with "/").
function M.render(path, list, truncated)
  local title = "Index of " .. html(path)
  local out = { "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>",
                title, "</title></head>\n<body>\n<h1>", title, "</h1>\n<table>\n" }
  if path ~= "/" then
    out[#out + 1] = '<tr><td><a href="../">../</a></td><td></td><td></td></tr>\n'
  end
  for _, e in ipairs(list) do
    local slash = e.kind == "d" and "/" or ""
    out[#out + 1] = ('<tr><td><a href="%s">%s</a></td><td>%s</td><td>%s</td></tr>\n')
      :format(html(url.escape(e.name)) .. slash, html(e.name) .. slash,
              e.kind == "f" and tostring(e.size) or "-",
              os.date("!%Y-%m-%d %H:%M", e.mtime))
  end
  out[#out + 1] = "</table>\n"
  if truncated then out[#out + 1] = "<p>(the listing was cut short)</p>\n" end
  out[#out + 1] = "</body></html>\n"
  return table.concat(out)
end

return M
