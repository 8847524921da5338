--- Ghost text drawn with extmarks, for Neovim 0.11 (and 0.12 with `ui = 'extmarks'`): asks the server for
--- inline completions when `kvcomplete.trigger` says, shows one suggestion at the cursor, cycles and accepts.
--- While the user types what a suggestion says, its remainder stays on screen until the new answer comes.
local accept = require('kvcomplete.accept')
local trigger = require('kvcomplete.trigger')

local api = vim.api
local M = {}

local namespace = api.nvim_create_namespace('kvcomplete.ghost')
local REQUEST_CANCELLED = -32800
local AUTOMATIC = 2 -- lsp.InlineCompletionTriggerKind.Automatic

-- Default colours, linked so that colour schemes apply; set again after `:colorscheme` clears them.
local function define_highlights()
  api.nvim_set_hl(0, 'KvcompleteGhost', { default = true, link = 'Comment' })
  api.nvim_set_hl(0, 'KvcompleteHint', { default = true, link = 'NonText' })
end
define_highlights()
api.nvim_create_autocmd('ColorScheme', {
  group = api.nvim_create_augroup('kvcomplete.ghost', { clear = true }),
  callback = define_highlights,
})

---@class (private) kvcomplete.ghost.State
---@field client vim.lsp.Client
---@field augroup integer
---@field items lsp.InlineCompletionItem[] the last answer
---@field anchor? [integer, integer] where its items start: the cursor of the request (0-based row, byte column)
---@field current? lsp.InlineCompletionItem the item on screen
---@field hint boolean show "(i/k)" (after cycling)
---@field request_id? integer

---@type table<integer, kvcomplete.ghost.State>
local states = {}

---@class (private) kvcomplete.ghost.Candidate
---@field item lsp.InlineCompletionItem
---@field rest string what is not typed yet

--- The items still consistent with what was typed since the request, with their remainders.
---@return kvcomplete.ghost.Candidate[]
local function candidates(bufnr, state)
  local list = {}
  for _, item in ipairs(state.anchor and state.items or {}) do
    local rest = type(item.insertText) == 'string' and accept.remaining(bufnr, state.anchor, item.insertText)
    if rest and rest ~= '' then
      table.insert(list, { item = item, rest = rest })
    end
  end
  return list
end

--- The candidates, and the index of the one on screen: the current item while it is still a candidate, else
--- the first.
---@return kvcomplete.ghost.Candidate[], integer
local function on_screen(bufnr, state)
  local list = candidates(bufnr, state)
  for index, candidate in ipairs(list) do
    if candidate.item == state.current then
      return list, index
    end
  end
  state.current = list[1] and list[1].item
  return list, 1
end

local function draw(bufnr, state)
  api.nvim_buf_clear_namespace(bufnr, namespace, 0, -1)
  local list, index = on_screen(bufnr, state)
  local candidate = list[index]
  if not candidate then
    return
  end
  local lines = vim.tbl_map(function(line)
    return { { line, 'KvcompleteGhost' } }
  end, vim.split(candidate.rest, '\n', { plain = true }))
  if state.hint then
    table.insert(lines[#lines], { (' (%d/%d)'):format(index, #list), 'KvcompleteHint' })
  end
  local row, col = unpack(accept.cursor(bufnr))
  api.nvim_buf_set_extmark(bufnr, namespace, row, col, {
    virt_text = lines[1],
    virt_text_pos = 'inline',
    virt_lines = { unpack(lines, 2) },
    hl_mode = 'combine',
  })
end

local function cancel_request(state)
  if state.request_id then
    state.client:cancel_request(state.request_id)
    state.request_id = nil
  end
end

local function in_insert_mode(bufnr)
  return api.nvim_get_current_buf() == bufnr and api.nvim_get_mode().mode:sub(1, 1) == 'i'
end

--- Ask at the cursor (`kvcomplete.trigger` calls it in Insert mode only); `on_answer` when the answer arrives.
---@param on_answer fun()?
local function request(bufnr, state, on_answer)
  if states[bufnr] ~= state then
    return
  end
  cancel_request(state)
  local params = vim.lsp.util.make_position_params(0, state.client.offset_encoding)
  params.context = { triggerKind = AUTOMATIC }
  local anchor = accept.cursor(bufnr)
  local id
  local _, request_id = state.client:request('textDocument/inlineCompletion', params, function(err, result)
    if state.request_id ~= id then -- superseded
      return
    end
    state.request_id = nil
    if err then
      if err.code ~= REQUEST_CANCELLED then
        vim.lsp.log.warn('kvcomplete: inline completion failed', err)
      end
      return
    end
    if on_answer then
      on_answer()
    end
    state.items, state.anchor, state.current, state.hint = result and (result.items or result) or {}, anchor, nil, false
    if in_insert_mode(bufnr) then
      draw(bufnr, state)
    end
  end, bufnr)
  id = request_id
  state.request_id = request_id
end

--- Forget the suggestions: nothing on screen, no request under way.
local function clear(bufnr, state)
  cancel_request(state)
  state.items, state.anchor, state.current, state.hint = {}, nil, nil, false
  api.nvim_buf_clear_namespace(bufnr, namespace, 0, -1)
end

--- Start showing kvcomplete's suggestions in `bufnr`.
---@param bufnr integer
---@param client vim.lsp.Client
---@param options kvcomplete.Options
function M.attach(bufnr, client, options)
  M.detach(bufnr)
  local augroup = api.nvim_create_augroup(('kvcomplete.ghost.%d'):format(bufnr), { clear = true })
  local state = { client = client, augroup = augroup, items = {}, hint = false }
  states[bufnr] = state
  trigger.attach(bufnr, options, {
    request = function(on_answer)
      request(bufnr, state, on_answer)
    end,
    -- What still matches the text typed since the request stays on screen; elsewhere nothing does.
    redraw = function()
      draw(bufnr, state)
    end,
  })
  api.nvim_create_autocmd('InsertLeave', {
    group = augroup,
    buffer = bufnr,
    callback = function()
      clear(bufnr, state)
    end,
  })
  api.nvim_create_autocmd({ 'BufUnload', 'LspDetach' }, {
    group = augroup,
    buffer = bufnr,
    callback = function(args)
      if args.event == 'BufUnload' or args.data.client_id == client.id then
        M.detach(bufnr)
      end
    end,
  })
  -- Insert mode may have begun before the server started (`nvim +startinsert file`): no InsertEnter comes then.
  vim.schedule(function()
    trigger.now(bufnr)
  end)
end

--- Stop showing suggestions in `bufnr`.
---@param bufnr integer
function M.detach(bufnr)
  local state = states[bufnr]
  if state then
    trigger.detach(bufnr)
    clear(bufnr, state)
    api.nvim_del_augroup_by_id(state.augroup)
    states[bufnr] = nil
  end
end

--- The state of `bufnr`, its candidates and the index of the one on screen; nil when nothing is on screen.
---@return kvcomplete.ghost.State?, kvcomplete.ghost.Candidate[], integer
local function showing(bufnr)
  local state = states[bufnr]
  if not state then
    return nil, {}, 0
  end
  local list, index = on_screen(bufnr, state)
  return #list > 0 and state or nil, list, index
end

--- Ask again at the cursor now, without the debounce (the server has longer suggestions there).
---@param bufnr integer
function M.refresh(bufnr)
  trigger.now(bufnr)
end

--- Accept the `kind` part of the suggestion shown (false when none is). Text changes are not allowed inside an
--- <expr> mapping, so the insertion runs just after it; then the rest (partial accept) stays on screen and the
--- next suggestions are asked for at once: the server prefetched them after the accept.
---@param bufnr integer
---@param kind kvcomplete.AcceptKind
---@return boolean
function M.accept(bufnr, kind)
  local state, list, index = showing(bufnr)
  if not state then
    return false
  end
  vim.schedule(function()
    accept.insert(bufnr, state.client, list[index].item, list[index].rest, kind)
    draw(bufnr, state)
    trigger.now(bufnr)
  end)
  return true
end

--- Show the suggestion `count` places further (negative: back), with the "(i/k)" hint.
---@param bufnr integer
---@param count integer
---@return boolean
function M.cycle(bufnr, count)
  local state, list, index = showing(bufnr)
  if not state then
    return false
  end
  state.current, state.hint = list[(index - 1 + count) % #list + 1].item, true
  draw(bufnr, state)
  return true
end

--- Hide the suggestions until the next keystroke.
---@param bufnr integer
---@return boolean
function M.dismiss(bufnr)
  local state = showing(bufnr)
  if not state then
    return false
  end
  trigger.cancel(bufnr)
  clear(bufnr, state)
  return true
end

return M
