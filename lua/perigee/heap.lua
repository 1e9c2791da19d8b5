-- perigee.heap -- the scheduler's timer list: a binary min-heap of
-- { at = time, fn = callback } entries ordered by time, then by insertion
-- (two timers due at the same time fire in the order they were set).
-- Each entry remembers its position, so remove() is O(log n).

local M = {}
local Heap = {}
Heap.__index = Heap

function M.new()
  return setmetatable({ n = 0, seq = 0 }, Heap)
end

local function less(a, b)
  if a.at ~= b.at then return a.at < b.at end
  return a.seq < b.seq
end

local function place(h, e, i)
  h[i] = e
  e.pos = i
end

local function up(h, i)
  local e = h[i]
  while i > 1 do
    local p = math.floor(i / 2)
    if not less(e, h[p]) then break end
    place(h, h[p], i)
    i = p
  end
  place(h, e, i)
end

local function down(h, i)
  local e, n = h[i], h.n
  while true do
    local c = 2 * i
    if c > n then break end
    if c < n and less(h[c + 1], h[c]) then c = c + 1 end
    if not less(h[c], e) then break end
    place(h, h[c], i)
    i = c
  end
  place(h, e, i)
end

function Heap:push(at, fn)
  self.seq = self.seq + 1
  local e = { at = at, fn = fn, seq = self.seq }
  self.n = self.n + 1
  place(self, e, self.n)
  up(self, self.n)
  return e
end

function Heap:peek()
  return self[1]
end

function Heap:remove(e)
  local i = e.pos
  if not i or self[i] ~= e then return false end
  e.pos = nil
  local last = self[self.n]
  self[self.n] = nil
  self.n = self.n - 1
  if i <= self.n then
    place(self, last, i)
    up(self, i)
    down(self, last.pos)
  end
  return true
end

function Heap:pop()
  local e = self[1]
  if e then self:remove(e) end
  return e
end

function Heap:size()
  return self.n
end

return M
