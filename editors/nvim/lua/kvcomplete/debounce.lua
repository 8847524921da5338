--- The pause after a keystroke before asking for ghost text, adapted to how fast the answers come.
---
--- The rule: wait about as long as an answer takes. The pause starts at `debounce_ms`; each answer to a request
--- made after a pause (kvcomplete.trigger) moves it a quarter of the way towards that answer's latency (a moving
--- average: one slow answer does not double it), and it always stays within [`debounce_min_ms`,
--- `debounce_max_ms`] (the average itself is kept there, so that it recovers from an outlier within a few
--- answers). Fast answers (the server has the suggestions at hand) then show ghost text soon after the typing
--- stops; slow ones (a loaded machine) make the plugin wait for a longer pause, so that fewer requests go out
--- only to be superseded by the next key.
local M = {}

--- How far each answer moves the pause towards its latency.
M.WEIGHT = 0.25

---@class kvcomplete.Debounce
---@field min_ms integer
---@field max_ms integer
---@field average_ms number the moving average of the latencies, within [min_ms, max_ms]
local Debounce = {}
Debounce.__index = Debounce

---@param x number
---@param low number
---@param high number
---@return number
local function clamp(x, low, high)
  return math.min(math.max(x, low), high)
end

--- A pause that starts at `options.debounce_ms`, within the options' bounds.
---@param options { debounce_ms: integer, debounce_min_ms: integer, debounce_max_ms: integer }
---@return kvcomplete.Debounce
function M.new(options)
  local min, max = options.debounce_min_ms, options.debounce_max_ms
  return setmetatable({ min_ms = min, max_ms = max, average_ms = clamp(options.debounce_ms, min, max) }, Debounce)
end

--- Take the latency of one answer (ms from the request to its answer) into account.
---@param latency_ms number
function Debounce:observe(latency_ms)
  if type(latency_ms) == 'number' and latency_ms >= 0 and latency_ms < math.huge then
    self.average_ms = clamp(self.average_ms + M.WEIGHT * (latency_ms - self.average_ms), self.min_ms, self.max_ms)
  end
end

--- The pause to wait now, in whole milliseconds.
---@return integer
function Debounce:delay()
  return math.floor(self.average_ms + 0.5)
end

return M
