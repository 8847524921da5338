--- :checkhealth kvcomplete — Neovim and the UI in use, the server command and its version, and for each running
--- server: whether its model is loaded, which model on which device, and its counters.
local server = require('kvcomplete.server')

local health = vim.health
local M = {}
local TIMEOUT_MS = 5000

local function check_neovim(kvcomplete)
  health.start('kvcomplete: Neovim')
  local version = tostring(vim.version())
  if vim.fn.has('nvim-0.11') == 0 then
    health.error(('Neovim %s: kvcomplete needs 0.11 or newer'):format(version))
    return
  end
  health.ok(('Neovim %s'):format(version))
  if not kvcomplete.options then
    health.warn("setup() was not called", { "add require('kvcomplete').setup({}) to your config" })
    return
  end
  local ui = kvcomplete.ui == 'builtin' and 'the built-in vim.lsp.inline_completion' or 'extmarks drawn by kvcomplete'
  health.ok(('ghost text: %s'):format(ui))
end

local function check_command(options)
  health.start('kvcomplete: server command')
  local executable = options.cmd[1]
  local path = vim.fn.exepath(executable)
  if path == '' then
    health.error(('%q not found'):format(executable), {
      "install kvcomplete (make setup) and set cmd = { '/path/to/.venv/bin/kvcomplete', 'serve' } in setup()",
    })
    return
  end
  health.ok(('%s found: %s'):format(executable, path))
  local result = vim.system({ path, '--version' }, { text = true }):wait(TIMEOUT_MS)
  if result.code == 0 then
    health.ok(('%s --version: %s'):format(executable, vim.trim(result.stdout)))
  else
    health.warn(('%s --version failed: %s'):format(path, vim.trim(result.stderr or '')))
  end
end

--- Whether the engine of `client` holds a model, asked for one of its documents (nil: it has none open).
local function model_loaded(client)
  local bufnr = next(client.attached_buffers)
  if not bufnr then
    return nil
  end
  local reply = client:request_sync(server.DOCUMENT, { uri = vim.uri_from_bufnr(bufnr) }, TIMEOUT_MS, bufnr)
  local document = reply and reply.result
  -- engineInSync is null while no model is loaded
  return type(document) == 'table' and document.engineInSync ~= nil and document.engineInSync ~= vim.NIL
end

local function check_client(client)
  local info = client.server_info or {}
  health.ok(('client %d: %s %s, position encoding %s'):format(client.id, info.name or server.NAME,
    info.version or '?', client.offset_encoding))
  local loaded = model_loaded(client)
  if loaded == nil then
    health.info('model: open a file to check that it is loaded')
  elseif loaded then
    health.ok('model loaded')
  else
    health.warn('no model loaded yet', { 'wait for the load to finish, or see :LspLog for why it failed' })
  end
  local message = server.model_messages[client.id]
  if message then
    health.info(('server: %s'):format(message))
  else
    health.info('model and device: not reported yet (the server logs them at logLevel info)')
  end
  local reply = client:request_sync(server.STATS, vim.empty_dict(), TIMEOUT_MS)
  if reply and reply.result then
    local stats = reply.result
    health.info(('requests %d, accepts %d, latency p50 %s ms, p95 %s ms (:KvcompleteStats for all)'):format(
      stats.requests, stats.accepts or 0, stats.latencyMs.p50, stats.latencyMs.p95))
  end
end

function M.check()
  local kvcomplete = require('kvcomplete')
  check_neovim(kvcomplete)
  if not kvcomplete.options then
    return
  end
  check_command(kvcomplete.options)
  health.start('kvcomplete: running servers')
  local clients = server.clients()
  if #clients == 0 then
    health.info('none yet: a server starts when a file of a configured filetype opens')
  end
  for _, client in ipairs(clients) do
    check_client(client)
  end
end

return M
