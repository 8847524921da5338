--- When to ask for ghost text, the same for both UIs (the built-in's own trigger is switched off, builtin.lua):
---
--- - at once on entering Insert mode, and when asked (`now`): after an accept, when the server says the
---   suggestions grew, when the model became ready, when kvcomplete attaches to a buffer already in Insert mode;
--- - after a pause (`kvcomplete.debounce`, adapted to the answers' latency) when the text changed (a keystroke)
---   or when the cursor moved to a new place without a change (arrow keys, a mouse click).
---
--- A keystroke raises CursorMovedI and TextChangedI (or TextChangedP with the popup menu) one after the other;
--- the buffer's changedtick and the cursor, remembered at each event, tell the first from the second, which
--- then has nothing new to say. An accept and a request at once remember them too, so the text an accept
--- inserts is not taken for typing.
local accept = require('kvcomplete.accept')
local debounce = require('kvcomplete.debounce')

local api = vim.api
local M = {}

---@class kvcomplete.trigger.UI
---@field request fun(on_answer: fun()?) ask at the cursor now; call `on_answer` when kvcomplete's answer arrives
---@field redraw fun(moved: boolean) update what is on screen after a keystroke, or after the cursor `moved`

---@class (private) kvcomplete.trigger.State
---@field ui kvcomplete.trigger.UI
---@field debounce kvcomplete.Debounce
---@field augroup integer
---@field tick? integer the buffer's changedtick at the last event
---@field cursor? [integer, integer] the cursor at the last event
---@field timer? uv.uv_timer_t

---@type table<integer, kvcomplete.trigger.State>
local states = {}

local function in_insert_mode(bufnr)
  return api.nvim_get_current_buf() == bufnr and api.nvim_get_mode().mode:sub(1, 1) == 'i'
end

local function stop_timer(state)
  if state.timer and not state.timer:is_closing() then
    state.timer:stop()
    state.timer:close()
  end
  state.timer = nil
end

--- Remember the text and the cursor as they are; whether each differs from what was remembered before.
---@param bufnr integer
---@param state kvcomplete.trigger.State
---@return boolean text_changed
---@return boolean cursor_moved
local function remember(bufnr, state)
  local tick, cursor = api.nvim_buf_get_changedtick(bufnr), accept.cursor(bufnr)
  local changed = tick ~= state.tick
  local moved = not state.cursor or cursor[1] ~= state.cursor[1] or cursor[2] ~= state.cursor[2]
  state.tick, state.cursor = tick, cursor
  return changed, moved
end

--- Ask now, if `bufnr` is still where the user types. `timed` (a request after the pause): its answer's latency
--- adapts the pause. Requests at once are not timed: after an accept or a suggestionsChanged the server answers
--- from what it holds, which says little about how long the answer to the next keystroke takes.
local function ask(bufnr, state, timed)
  if states[bufnr] ~= state or not in_insert_mode(bufnr) then
    return
  end
  local sent = vim.uv.hrtime()
  state.ui.request(timed and function()
    state.debounce:observe((vim.uv.hrtime() - sent) / 1e6)
  end or nil)
end

--- A CursorMovedI, TextChangedI or TextChangedP: redraw, and ask after the pause, when the text changed or the
--- cursor is somewhere new.
local function changed(bufnr, state)
  local text_changed, cursor_moved = remember(bufnr, state)
  if not (text_changed or cursor_moved) then
    return
  end
  state.ui.redraw(not text_changed)
  stop_timer(state)
  state.timer = vim.defer_fn(function()
    state.timer = nil
    ask(bufnr, state, true)
  end, state.debounce:delay())
end

--- Ask for ghost text in `bufnr` as `options` say, through `ui`.
---@param bufnr integer
---@param options kvcomplete.Options
---@param ui kvcomplete.trigger.UI
function M.attach(bufnr, options, ui)
  M.detach(bufnr)
  local augroup = api.nvim_create_augroup(('kvcomplete.trigger.%d'):format(bufnr), { clear = true })
  local state = { ui = ui, debounce = debounce.new(options), augroup = augroup }
  states[bufnr] = state
  local function on(events, callback)
    api.nvim_create_autocmd(events, { group = augroup, buffer = bufnr, callback = callback })
  end
  on('InsertEnter', function()
    remember(bufnr, state)
    -- Scheduled: the cursor of `A` or `:startinsert!` may not be at its place yet.
    vim.schedule(function()
      M.now(bufnr)
    end)
  end)
  on({ 'CursorMovedI', 'TextChangedI', 'TextChangedP' }, function()
    changed(bufnr, state)
  end)
  on('InsertLeave', function()
    stop_timer(state)
  end)
  on('BufUnload', function()
    M.detach(bufnr)
  end)
end

--- Stop asking in `bufnr`.
---@param bufnr integer
function M.detach(bufnr)
  local state = states[bufnr]
  if state then
    stop_timer(state)
    api.nvim_del_augroup_by_id(state.augroup)
    states[bufnr] = nil
  end
end

--- Ask at once, without the pause (nothing when `bufnr` is not in Insert mode or not attached).
---@param bufnr integer
function M.now(bufnr)
  local state = states[bufnr]
  if state and in_insert_mode(bufnr) then
    stop_timer(state)
    remember(bufnr, state)
    ask(bufnr, state, false)
  end
end

--- Drop the request that a keystroke scheduled (the suggestions were dismissed).
---@param bufnr integer
function M.cancel(bufnr)
  local state = states[bufnr]
  if state then
    stop_timer(state)
  end
end

--- The pause that a keystroke in `bufnr` waits now, in ms; nil when not attached.
---@param bufnr integer
---@return integer?
function M.delay(bufnr)
  local state = states[bufnr]
  return state and state.debounce:delay()
end

return M
