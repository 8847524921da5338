--- Next edits: after an edit the server proposes edits elsewhere in the buffer (`kvcomplete/nextEditsReady`, or
--- `kvcomplete/nextEdits` asked by :KvcompleteNextEdit). The best one is shown at its place: its old text
--- highlighted, its new text as virtual text after it (the lines after the first as virtual lines); the lines of
--- the others get a sign (`»`, highlight `KvcompleteNextEditSign`). In Normal mode
--- `next_edit_key` jumps to it, or applies it when the cursor is on its lines, and then shows the next one;
--- `next_edit_dismiss_key` dismisses the set. Accepts and dismissals are reported with
--- `kvcomplete/nextEditFeedback`.
---
--- A set is taken only at the buffer's current version (`vim.lsp.util.buf_versions`). Each proposal's range is
--- then an extmark, which follows the edits elsewhere; after every change a proposal whose range no longer holds
--- its old text is dropped (the range takes in text typed at its ends, so typing right at it drops it too), and it
--- is checked once more just before it is applied: a proposal whose place changed is never applied.
local server = require('kvcomplete.server')

local api = vim.api
local M = {}

M.READY = 'kvcomplete/nextEditsReady'
M.REQUEST = 'kvcomplete/nextEdits'
M.FEEDBACK = 'kvcomplete/nextEditFeedback'

local track = api.nvim_create_namespace('kvcomplete.next_edits.track') -- one invisible extmark per proposal
local namespace = api.nvim_create_namespace('kvcomplete.next_edits') -- what is on screen

-- Default colours, from the diff groups of the colour scheme; set again after `:colorscheme` clears them.
local function define_highlights()
  local removed = api.nvim_get_hl(0, { name = 'DiffDelete', link = false })
  api.nvim_set_hl(0, 'KvcompleteNextEditOld', { default = true, strikethrough = true, fg = removed.fg,
    bg = removed.bg, ctermfg = removed.ctermfg, ctermbg = removed.ctermbg })
  api.nvim_set_hl(0, 'KvcompleteNextEditNew', { default = true, link = 'DiffAdd' })
  api.nvim_set_hl(0, 'KvcompleteNextEditSign', { default = true, link = 'DiffChange' })
end
define_highlights()
api.nvim_create_autocmd('ColorScheme', {
  group = api.nvim_create_augroup('kvcomplete.next_edits', { clear = true }),
  callback = define_highlights,
})

---@class (private) kvcomplete.next_edits.Proposal
---@field mark integer the extmark (in `track`) over its range
---@field old_text string
---@field new_text string

---@class (private) kvcomplete.next_edits.State
---@field client vim.lsp.Client
---@field proposals kvcomplete.next_edits.Proposal[] best first
---@field augroup integer

---@type table<integer, kvcomplete.next_edits.State>
local states = {}

---@type boolean the `next_edits` option of the last setup(): show the sets the server sends
local enabled = true

---@class (private) kvcomplete.next_edits.Place
---@field [1] integer start row
---@field [2] integer start byte column
---@field [3] integer end row
---@field [4] integer end byte column

--- The byte column of an LSP position in `bufnr`; nil when it is not in the buffer.
---@return integer?
local function byte_column(bufnr, position, encoding)
  local line = api.nvim_buf_get_lines(bufnr, position.line, position.line + 1, false)[1]
  local ok, column = pcall(vim.str_byteindex, line or '', encoding, position.character, true)
  return line and ok and column or nil
end

--- The text at `place`; nil when the place is not in the buffer.
---@param place kvcomplete.next_edits.Place
---@return string?
local function text_at(bufnr, place)
  local ok, lines = pcall(api.nvim_buf_get_text, bufnr, place[1], place[2], place[3], place[4], {})
  return ok and table.concat(lines, '\n') or nil
end

--- Where `proposal` is now, while its place still holds its old text; nil once it does not.
---@param proposal kvcomplete.next_edits.Proposal
---@return kvcomplete.next_edits.Place?
local function valid_place(bufnr, proposal)
  local mark = api.nvim_buf_get_extmark_by_id(bufnr, track, proposal.mark, { details = true })
  if not mark[1] or mark[3].invalid then
    return nil
  end
  local place = { mark[1], mark[2], mark[3].end_row, mark[3].end_col }
  return text_at(bufnr, place) == proposal.old_text and place or nil
end

--- `place` as an LSP range in the client's position encoding.
local function lsp_range(bufnr, place, encoding)
  local function position(row, col)
    return { line = row, character = vim.lsp.util.character_offset(bufnr, row, col, encoding) }
  end
  return { start = position(place[1], place[2]), ['end'] = position(place[3], place[4]) }
end

--- Keep the proposals whose place still holds their old text, best first.
local function sweep(bufnr, state)
  state.proposals = vim.tbl_filter(function(proposal)
    local keep = valid_place(bufnr, proposal) ~= nil
    if not keep then
      api.nvim_buf_del_extmark(bufnr, track, proposal.mark)
    end
    return keep
  end, state.proposals)
end

--- Draw the best proposal: its old text highlighted, its new text after it; a sign on the lines of the others.
local function draw(bufnr, state)
  api.nvim_buf_clear_namespace(bufnr, namespace, 0, -1)
  for index = 2, #state.proposals do
    local other = valid_place(bufnr, state.proposals[index])
    if other then
      api.nvim_buf_set_extmark(bufnr, namespace, other[1], 0, { sign_text = '»',
        sign_hl_group = 'KvcompleteNextEditSign' })
    end
  end
  local proposal = state.proposals[1]
  local place = proposal and valid_place(bufnr, proposal)
  if not place then
    return
  end
  local lines = vim.tbl_map(function(line)
    return { { line, 'KvcompleteNextEditNew' } }
  end, vim.split(proposal.new_text, '\n', { plain = true }))
  api.nvim_buf_set_extmark(bufnr, namespace, place[1], place[2], { end_row = place[3], end_col = place[4],
    hl_group = 'KvcompleteNextEditOld' })
  api.nvim_buf_set_extmark(bufnr, namespace, place[3], place[4], { virt_text = lines[1], virt_text_pos = 'inline',
    virt_lines = { unpack(lines, 2) } })
end

--- Forget the proposals of `bufnr` and what is drawn.
---@param bufnr integer
function M.clear(bufnr)
  local state = states[bufnr]
  if state then
    states[bufnr] = nil
    api.nvim_del_augroup_by_id(state.augroup)
    if api.nvim_buf_is_valid(bufnr) then
      api.nvim_buf_clear_namespace(bufnr, track, 0, -1)
      api.nvim_buf_clear_namespace(bufnr, namespace, 0, -1)
    end
  end
end

--- Show the set `result` (`{uri, version, edits}`) from `client` in `bufnr`, if it is for the buffer's version.
local function show(bufnr, client, result)
  if type(result) ~= 'table' or vim.lsp.util.buf_versions[bufnr] ~= result.version then
    return
  end
  M.clear(bufnr)
  local augroup = api.nvim_create_augroup(('kvcomplete.next_edits.%d'):format(bufnr), { clear = true })
  local state = { client = client, proposals = {}, augroup = augroup }
  states[bufnr] = state
  for _, edit in ipairs(result.edits or {}) do
    local range, encoding = edit.range, client.offset_encoding
    local place = { range.start.line, byte_column(bufnr, range.start, encoding), range['end'].line,
      byte_column(bufnr, range['end'], encoding) }
    if place[2] and place[4] and text_at(bufnr, place) == edit.oldText then
      local mark = api.nvim_buf_set_extmark(bufnr, track, place[1], place[2], { end_row = place[3],
        end_col = place[4], right_gravity = false, end_right_gravity = true, invalidate = true })
      table.insert(state.proposals, { mark = mark, old_text = edit.oldText, new_text = edit.newText })
    end
  end
  api.nvim_create_autocmd({ 'TextChanged', 'TextChangedI', 'TextChangedP' }, { group = augroup, buffer = bufnr,
    callback = function()
      sweep(bufnr, state)
      draw(bufnr, state)
    end })
  api.nvim_create_autocmd('BufUnload', { group = augroup, buffer = bufnr, callback = function() M.clear(bufnr) end })
  draw(bufnr, state)
end

--- The buffer of `uri` that `client` is attached to; nil when there is none.
local function attached_buffer(client, uri)
  for bufnr in pairs(client.attached_buffers) do
    if vim.uri_from_bufnr(bufnr) == uri then
      return bufnr
    end
  end
end

--- The handler of `kvcomplete/nextEditsReady` (nothing while the `next_edits` option is off).
---@type lsp.Handler
function M.handler(_, params, ctx)
  local client = enabled and vim.lsp.get_client_by_id(ctx.client_id)
  local bufnr = client and type(params) == 'table' and attached_buffer(client, params.uri)
  if bufnr then
    show(bufnr, client, params)
  end
end

--- Whether a proposal is shown in `bufnr`.
---@param bufnr integer
---@return boolean
function M.showing(bufnr)
  return states[bufnr] ~= nil and #states[bufnr].proposals > 0
end

local function feedback(bufnr, state, place, proposal, action)
  state.client:notify(M.FEEDBACK, { uri = vim.uri_from_bufnr(bufnr), newText = proposal.new_text, action = action,
    range = lsp_range(bufnr, place, state.client.offset_encoding) })
end

--- Apply the shown proposal in `bufnr` when the cursor is on its lines, else move the cursor to it.
---@param bufnr integer
function M.jump_or_apply(bufnr)
  local state = states[bufnr]
  local proposal = state and state.proposals[1]
  local place = proposal and valid_place(bufnr, proposal)
  if not place then
    if state then -- its place changed since the last draw: dropped, never applied
      sweep(bufnr, state)
      draw(bufnr, state)
    end
    return
  end
  local row = api.nvim_win_get_cursor(0)[1] - 1
  if row < place[1] or row > place[3] then
    api.nvim_win_set_cursor(0, { place[1] + 1, place[2] })
    return
  end
  table.remove(state.proposals, 1)
  api.nvim_buf_del_extmark(bufnr, track, proposal.mark)
  -- Reported first, with its range before the edit, so the server hears of it ahead of the edit's didChange.
  feedback(bufnr, state, place, proposal, 'accepted')
  api.nvim_buf_set_text(bufnr, place[1], place[2], place[3], place[4],
    vim.split(proposal.new_text, '\n', { plain = true }))
  api.nvim_win_set_cursor(0, { place[1] + 1, place[2] })
  sweep(bufnr, state)
  draw(bufnr, state)
end

--- Dismiss the proposals of `bufnr`; the one on screen is reported dismissed (the others were never shown).
---@param bufnr integer
function M.dismiss(bufnr)
  local state = states[bufnr]
  local proposal = state and state.proposals[1]
  local place = proposal and valid_place(bufnr, proposal)
  if place then
    feedback(bufnr, state, place, proposal, 'dismissed')
  end
  M.clear(bufnr)
end

--- :KvcompleteNextEdit: ask kvcomplete for the next edits at the cursor and show them.
function M.request()
  local bufnr = api.nvim_get_current_buf()
  local client = server.clients(bufnr)[1]
  if not client then
    vim.notify('kvcomplete: no server is attached to this buffer', vim.log.levels.WARN)
    return
  end
  client:request(M.REQUEST, vim.lsp.util.make_position_params(0, client.offset_encoding), function(err, result)
    if err then
      vim.notify(('kvcomplete: no next edits: %s'):format(err.message), vim.log.levels.WARN)
    elseif api.nvim_buf_is_valid(bufnr) then
      show(bufnr, client, result)
    end
  end, bufnr)
end

---@type string[] the Normal-mode keys set last, to remove them when setup() runs again
local mapped = {}

--- Map `lhs` in Normal mode to `action` while a proposal is shown; otherwise it does what it did.
local function map(lhs, action, desc)
  vim.keymap.set('n', lhs, function()
    local bufnr = api.nvim_get_current_buf()
    if not M.showing(bufnr) then
      return lhs
    end
    vim.schedule(function() action(bufnr) end) -- an <expr> mapping may not change the text
    return ''
  end, { expr = true, desc = 'kvcomplete: ' .. desc })
  table.insert(mapped, lhs)
end

--- The keys, the command and the `next_edits` switch of `options`.
---@param options kvcomplete.Options
function M.setup(options)
  for _, lhs in ipairs(mapped) do
    pcall(vim.keymap.del, 'n', lhs)
  end
  mapped = {}
  enabled = options.next_edits
  if options.next_edit_key then
    map(options.next_edit_key, M.jump_or_apply, 'Go to the next edit, or apply it')
  end
  if options.next_edit_dismiss_key then
    map(options.next_edit_dismiss_key, M.dismiss, 'Dismiss the next edits')
  end
  api.nvim_create_user_command('KvcompleteNextEdit', M.request,
    { desc = 'Ask kvcomplete for the next edits at the cursor (kvcomplete/nextEdits)' })
end

return M
