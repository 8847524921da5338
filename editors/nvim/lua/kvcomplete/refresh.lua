--- `kvcomplete/suggestionsChanged`: the server decodes on after it answered and says so when the suggestions at
--- a cursor grew. LSP has no refresh request for inline completions, so the plugin asks again, and the server
--- answers at once from what it decoded. Only when the notification is about what is on screen: the current
--- buffer, in insert mode, at the notified version (`vim.lsp.util.buf_versions`, the changedtick the client
--- sends as the LSP version) with the cursor at the notified position (in the client's offset encoding).
--- Anything else is stale (the user typed or moved on) and is ignored: a request there would supersede the one
--- for the new cursor. The plugin also asks again when a server's model becomes ready (`on_model_ready`).
local api = vim.api
local M = {}

M.METHOD = 'kvcomplete/suggestionsChanged'

---@class (private) kvcomplete.SuggestionsChangedParams
---@field uri string
---@field version integer the document version the suggestions are for
---@field position lsp.Position the cursor they are for

--- The buffer to ask again for, when `params` are about the current buffer as it is now; nil when stale.
---@param params kvcomplete.SuggestionsChangedParams
---@param client vim.lsp.Client
---@return integer?
function M.current_buffer(params, client)
  local bufnr = api.nvim_get_current_buf()
  if not client.attached_buffers[bufnr] or api.nvim_get_mode().mode:sub(1, 1) ~= 'i'
      or vim.uri_from_bufnr(bufnr) ~= params.uri or vim.lsp.util.buf_versions[bufnr] ~= params.version then
    return nil
  end
  local cursor = vim.lsp.util.make_position_params(0, client.offset_encoding).position
  local position = params.position or {}
  return cursor.line == position.line and cursor.character == position.character and bufnr or nil
end

--- What to do when a server's model is ready: `ui.refresh` the current buffer if it is in insert mode and
--- attached to that server. A request sent while the model loaded waits for it on the server at most 30 s
--- (longer loads answer it with nothing), and no keystroke may come to ask again.
---@param ui kvcomplete.UI
---@return fun(client_id: integer)
function M.on_model_ready(ui)
  return function(client_id)
    local client = vim.lsp.get_client_by_id(client_id)
    local bufnr = api.nvim_get_current_buf()
    if client and client.attached_buffers[bufnr] and api.nvim_get_mode().mode:sub(1, 1) == 'i' then
      ui.refresh(bufnr)
    end
  end
end

--- The notification's handler: `ui.refresh` the current buffer when the notification is not stale.
---@param ui kvcomplete.UI
---@return lsp.Handler
function M.handler(ui)
  return function(_, params, ctx)
    local client = vim.lsp.get_client_by_id(ctx.client_id)
    local bufnr = client and M.current_buffer(params, client)
    if bufnr then
      ui.refresh(bufnr)
    end
  end
end

return M
