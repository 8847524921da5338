--- :KvcompleteStats: the counters of `kvcomplete/stats`, one line each, for every running server, after the
--- ghost-text timings people look for first.
local server = require('kvcomplete.server')

local M = {}

--- Flatten nested counters (latencyMs.p50) into sorted "name: value" lines; null (vim.NIL) as `–`.
---@param stats table
---@return string[]
function M.lines(stats)
  local lines = {}
  local function add(prefix, value)
    if type(value) == 'table' then
      for key, inner in pairs(value) do
        add(prefix .. '.' .. key, inner)
      end
    else
      table.insert(lines, ('%s: %s'):format(prefix:sub(2), value == vim.NIL and '–' or tostring(value)))
    end
  end
  add('', stats)
  table.sort(lines)
  return lines
end

-- The server's timings (docs/lsp.md): request to the first ghost text, and to the final, finished suggestions.
local TIMINGS = { { 'firstAnswerMs', 'first ghost text' }, { 'finalSuggestionMs', 'final suggestion' } }

--- The timings in one line: "first ghost text p50 120 ms, p95 300 ms; final suggestion ...", `–` where the
--- server measured nothing yet (its null, vim.NIL).
---@param stats table
---@return string
function M.timings(stats)
  local function ms(value)
    return type(value) == 'number' and ('%d ms'):format(math.floor(value + 0.5)) or '–'
  end
  local parts = {}
  for _, timing in ipairs(TIMINGS) do
    local entry = type(stats[timing[1]]) == 'table' and stats[timing[1]] or {}
    table.insert(parts, ('%s p50 %s, p95 %s'):format(timing[2], ms(entry.p50), ms(entry.p95)))
  end
  return table.concat(parts, '; ')
end

--- Ask each running kvcomplete server for its stats and echo them (also kept in :messages).
function M.show()
  local clients = server.clients()
  if #clients == 0 then
    vim.notify('kvcomplete: no server is running (it starts when a file of a configured filetype opens)',
      vim.log.levels.WARN)
    return
  end
  for _, client in ipairs(clients) do
    client:request(server.STATS, vim.empty_dict(), function(err, result)
      if err then
        vim.notify(('kvcomplete: %s failed: %s'):format(server.STATS, err.message), vim.log.levels.ERROR)
        return
      end
      local header = ('kvcomplete stats (client %d)'):format(client.id)
      local lines = { header, M.timings(result), unpack(M.lines(result)) }
      vim.api.nvim_echo({ { table.concat(lines, '\n') } }, true, {})
    end)
  end
end

return M
