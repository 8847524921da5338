--- Accepting a suggestion, whole or in part, the same way in both UIs: insert the part at the cursor and report
--- it with `kvcomplete/didAccept` first, so the engine can get ahead of the didChange that the edit sends.
local server = require('kvcomplete.server')
local text = require('kvcomplete.text')

local api = vim.api
local M = {}

--- The window the user edits `bufnr` in: the current one, or else the first that shows it.
---@param bufnr integer
---@return integer
local function window(bufnr)
  local current = api.nvim_get_current_win()
  return api.nvim_win_get_buf(current) == bufnr and current or vim.fn.bufwinid(bufnr)
end

--- The cursor in `bufnr`, as a 0-based row and a byte column.
---@param bufnr integer
---@return [integer, integer]
function M.cursor(bufnr)
  local row, col = unpack(api.nvim_win_get_cursor(window(bufnr)))
  return { row - 1, col }
end

--- The part of `suggestion` not yet in the buffer. The suggestion starts at `anchor` (0-based row, byte column);
--- the text typed between there and the cursor must be its beginning. nil when it is not, or when the cursor is
--- before the anchor.
---@param bufnr integer
---@param anchor [integer, integer]
---@param suggestion string
---@return string?
function M.remaining(bufnr, anchor, suggestion)
  local row, col = unpack(M.cursor(bufnr))
  if row < anchor[1] or (row == anchor[1] and col < anchor[2]) then
    return nil
  end
  -- The anchor may lie past the end of a line that was shortened since the request.
  local ok, typed = pcall(api.nvim_buf_get_text, bufnr, anchor[1], anchor[2], row, col, {})
  return ok and text.remainder(suggestion, table.concat(typed, '\n')) or nil
end

--- Insert the `kind` part of `rest` at the cursor and leave the cursor after it. `item` is the LSP item that
--- `rest` comes from; the accept is reported when `client` is kvcomplete's.
---@param bufnr integer
---@param client vim.lsp.Client?
---@param item lsp.InlineCompletionItem
---@param rest string
---@param kind kvcomplete.AcceptKind
function M.insert(bufnr, client, item, rest, kind)
  local part = text.part(rest, kind)
  if client and client.name == server.NAME then
    client:notify(server.DID_ACCEPT, { uri = vim.uri_from_bufnr(bufnr), item = item, acceptedText = part })
  end
  local row, col = unpack(M.cursor(bufnr))
  local lines = vim.split(part, '\n', { plain = true })
  api.nvim_buf_set_text(bufnr, row, col, row, col, lines)
  api.nvim_win_set_cursor(window(bufnr), { row + #lines, (#lines == 1 and col or 0) + #lines[#lines] })
end

return M
