--- :KvcompleteStats: the counters of `kvcomplete/stats`, one line each, for every running server.
local server = require('kvcomplete.server')

local M = {}

--- Flatten nested counters (latencyMs.p50) into sorted "name: value" lines.
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
      table.insert(lines, ('%s: %s'):format(prefix:sub(2), tostring(value)))
    end
  end
  add('', stats)
  table.sort(lines)
  return lines
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
      vim.api.nvim_echo({ { table.concat({ header, unpack(M.lines(result)) }, '\n') } }, true, {})
    end)
  end
end

return M
