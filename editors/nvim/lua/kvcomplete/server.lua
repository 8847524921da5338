--- The kvcomplete language server as Neovim's LSP client sees it: its config (`vim.lsp.config` +
--- `vim.lsp.enable`), its clients, its custom methods, and what it said about its model.
local M = {}

M.NAME = 'kvcomplete'
M.DID_ACCEPT = 'kvcomplete/didAccept'
M.STATS = 'kvcomplete/stats' -- params {}: pygls refuses a request without params
M.DOCUMENT = 'kvcomplete/document'

-- The server logs the outcome of each model load as "kvcomplete.lsp_server.server: model ready: {...}" (model, device,
-- dtype, ...) or "...: no model: <why>"; the last one per client is kept for :checkhealth, which has no other way
-- to learn the device. "model ready" also makes the plugin ask for ghost text (refresh.lua).
local MODEL_MESSAGE = { ': model ready: ', ': no model: ' }

---@type table<integer, string>
M.model_messages = {}

--- The handler of `window/logMessage`: Neovim's, after keeping the model message and calling `on_model_ready`
--- when it says the model is ready.
---@param on_model_ready fun(client_id: integer)
---@return lsp.Handler
local function log_message(on_model_ready)
  ---@param err lsp.ResponseError?
  ---@param params lsp.LogMessageParams
  ---@param ctx lsp.HandlerContext
  return function(err, params, ctx)
    for index, pattern in ipairs(MODEL_MESSAGE) do
      local at = params.message:find(pattern, 1, true)
      if at then
        M.model_messages[ctx.client_id] = params.message:sub(at + 2)
        if index == 1 then
          on_model_ready(ctx.client_id)
        end
      end
    end
    return vim.lsp.handlers['window/logMessage'](err, params, ctx)
  end
end

--- Configure and enable the server for `options.filetypes`; settings go as initializationOptions; `handlers`
--- for kvcomplete's own notifications; `on_model_ready` when a server says its model is ready (it logs so).
--- A later `vim.lsp.config('kvcomplete', {...})` by the user applies over this.
---@param options kvcomplete.Options
---@param handlers table<string, lsp.Handler>
---@param on_model_ready fun(client_id: integer)
function M.start(options, handlers, on_model_ready)
  vim.lsp.config(M.NAME, {
    cmd = options.cmd,
    filetypes = options.filetypes,
    init_options = options.settings,
    handlers = vim.tbl_extend('error', { ['window/logMessage'] = log_message(on_model_ready) }, handlers),
  })
  vim.lsp.enable(M.NAME)
  if vim.fn.executable(options.cmd[1]) == 0 then
    vim.notify(("kvcomplete: %q is not executable; set cmd = { '/path/to/.venv/bin/kvcomplete', 'serve' } in "
      .. 'setup() (see :help kvcomplete-setup)'):format(options.cmd[1]), vim.log.levels.WARN)
  end
end

--- The running kvcomplete clients, of one buffer or all.
---@param bufnr integer?
---@return vim.lsp.Client[]
function M.clients(bufnr)
  return vim.lsp.get_clients({ name = M.NAME, bufnr = bufnr })
end

return M
