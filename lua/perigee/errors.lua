-- perigee.errors -- error values the framework understands.
--
-- An HTTP error is a table { status = 4xx/5xx, message = "...", expose =
-- bool } raised with error() or passed to next(): the response gets that
-- status. Its message is shown to the client for statuses below 500 (or
-- when expose is true); 5xx messages go to the log only. Any other error
-- value is a bug: 500, logged with its traceback.
--
-- CLOSED is raised by I/O calls when the client went away: the request
-- ends quietly (logged with status 499, as nginx does).

local M = {}

local HttpError = {}
HttpError.__index = HttpError
HttpError.__tostring = function(e)
  return ("HTTP %d: %s"):format(e.status, e.message)
end

M.reasons = {
  [100] = "Continue", [101] = "Switching Protocols",
  [200] = "OK", [201] = "Created", [202] = "Accepted",
  [204] = "No Content", [206] = "Partial Content",
  [301] = "Moved Permanently", [302] = "Found", [303] = "See Other",
  [304] = "Not Modified", [307] = "Temporary Redirect",
  [308] = "Permanent Redirect",
  [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden",
  [404] = "Not Found", [405] = "Method Not Allowed",
  [406] = "Not Acceptable", [408] = "Request Timeout", [409] = "Conflict",
  [410] = "Gone", [411] = "Length Required", [412] = "Precondition Failed",
  [413] = "Content Too Large", [414] = "URI Too Long",
  [415] = "Unsupported Media Type", [422] = "Unprocessable Content",
  [429] = "Too Many Requests", [431] = "Request Header Fields Too Large",
  [500] = "Internal Server Error", [501] = "Not Implemented",
  [502] = "Bad Gateway", [503] = "Service Unavailable",
  [504] = "Gateway Timeout",
}

-- new(status, message[, expose]): an HTTP error value (not raised).
function M.new(status, message, expose)
  assert(type(status) == "number" and status >= 400 and status <= 599,
         "perigee.http_error: status must be 400..599, got " .. tostring(status))
  return setmetatable({
    status = status,
    message = message or M.reasons[status] or "error",
    expose = expose == nil and status < 500 or expose,
  }, HttpError)
end

-- raise(status, message): raise an HTTP error.
function M.raise(status, message, level)
  error(M.new(status, message), level or 2)
end

function M.is_http(e)
  return getmetatable(e) == HttpError
    or (type(e) == "table" and type(e.status) == "number"
        and e.status >= 400 and e.status <= 599)
end

M.CLOSED = setmetatable({ closed = true },
    { __tostring = function() return "client closed the connection" end })

return M
