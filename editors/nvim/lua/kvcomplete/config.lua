--- The options of `require('kvcomplete').setup()`, their defaults and their checks. doc/kvcomplete.txt
--- documents each one.
local M = {}

---@class kvcomplete.Keymaps
---@field accept string|false         accept the whole suggestion
---@field accept_word string|false    accept its next word
---@field accept_line string|false    accept the rest of its line
---@field next string|false           show the next suggestion
---@field prev string|false           show the previous suggestion
---@field dismiss string|false        hide the suggestions

---@class kvcomplete.Options
---@field cmd string[]                the command that starts the server over stdio
---@field filetypes string[]?         filetypes to attach to; nil: every buffer that is a file
---@field settings table              the server's settings (initializationOptions, docs/lsp.md)
---@field ui 'auto'|'builtin'|'extmarks'  who draws the ghost text
---@field debounce_ms integer         pause after a keystroke before asking, until answers were timed
---@field debounce_min_ms integer     the shortest pause, however fast the answers (kvcomplete.debounce)
---@field debounce_max_ms integer     the longest pause, however slow the answers
---@field keymaps kvcomplete.Keymaps  insert-mode keys; false leaves one unmapped
---@field next_edits boolean          show the next edits the server sends after an edit (kvcomplete.next_edits)
---@field next_edit_key string|false  Normal-mode key: go to the shown next edit, or apply it
---@field next_edit_dismiss_key string|false  Normal-mode key: dismiss the next edits

---@type kvcomplete.Options
M.defaults = {
  cmd = { 'kvcomplete', 'serve' },
  filetypes = nil,
  settings = {},
  ui = 'auto',
  debounce_ms = 200,
  debounce_min_ms = 50,
  debounce_max_ms = 500,
  keymaps = {
    accept = '<Tab>',
    accept_word = '<C-Right>',
    accept_line = '<C-Down>',
    next = '<M-]>',
    prev = '<M-[>',
    dismiss = '<C-]>',
  },
  next_edits = true,
  next_edit_key = '<Tab>',
  next_edit_dismiss_key = '<Esc>',
}

local UIS = { auto = true, builtin = true, extmarks = true }

local function is_milliseconds(value)
  return type(value) == 'number' and value >= 0 and value % 1 == 0
end

local function is_key_or_false(value)
  return value == false or (type(value) == 'string' and value ~= '')
end

local function is_list_of_strings(value, allow_empty)
  if type(value) ~= 'table' or (not allow_empty and #value == 0) or not vim.islist(value) then
    return false
  end
  for _, item in ipairs(value) do
    if type(item) ~= 'string' then
      return false
    end
  end
  return true
end

local CHECKS = {
  cmd = { function(v) return is_list_of_strings(v, false) end, 'a non-empty list of strings' },
  filetypes = { function(v) return v == nil or is_list_of_strings(v, true) end, 'a list of filetypes or nil' },
  settings = { function(v) return type(v) == 'table' end, 'a table of server settings' },
  ui = { function(v) return UIS[v] ~= nil end, "'auto', 'builtin' or 'extmarks'" },
  debounce_ms = { is_milliseconds, 'an integer >= 0' },
  debounce_min_ms = { is_milliseconds, 'an integer >= 0' },
  debounce_max_ms = { is_milliseconds, 'an integer >= 0' },
  keymaps = { function(v) return type(v) == 'table' end, 'a table of keys' },
  next_edits = { function(v) return type(v) == 'boolean' end, 'true or false' },
  next_edit_key = { is_key_or_false, 'a key or false' },
  next_edit_dismiss_key = { is_key_or_false, 'a key or false' },
}

local function fail(message)
  error('kvcomplete.setup: ' .. message, 0)
end

--- The three debounce options agree: the ones the user left out give way to the ones they set (`{ debounce_ms =
--- 1000 }` alone raises the maximum to 1000; `{ debounce_max_ms = 100 }` alone lowers the start to 100), and the
--- ones they set must hold min <= debounce_ms <= max.
---@param options kvcomplete.Options the defaults overridden by `opts`
---@param opts table what the user set
local function settle_debounce(options, opts)
  local min, start, max = options.debounce_min_ms, options.debounce_ms, options.debounce_max_ms
  if opts.debounce_min_ms == nil then
    min = math.min(min, max, opts.debounce_ms or min)
  end
  if opts.debounce_max_ms == nil then
    max = math.max(max, min, opts.debounce_ms or max)
  end
  if opts.debounce_ms == nil then
    start = math.min(math.max(start, min), max)
  end
  if not (min <= start and start <= max) then
    fail(('debounce_min_ms <= debounce_ms <= debounce_max_ms must hold, got %d, %d, %d'):format(min, start, max))
  end
  options.debounce_min_ms, options.debounce_ms, options.debounce_max_ms = min, start, max
end

--- The defaults overridden by `opts`; raises a readable error on an unknown option or a bad value.
---@param opts table?
---@return kvcomplete.Options
function M.resolve(opts)
  opts = opts or {}
  if type(opts) ~= 'table' then
    fail('expects a table of options, got ' .. type(opts))
  end
  local options = vim.deepcopy(M.defaults)
  for key, value in pairs(opts) do
    local check = CHECKS[key]
    if not check then
      fail(('unknown option %q (see :help kvcomplete-options)'):format(tostring(key)))
    elseif not check[1](value) then
      fail(('option %s must be %s, got %s'):format(key, check[2], vim.inspect(value)))
    end
    options[key] = key == 'keymaps' and options.keymaps or vim.deepcopy(value)
  end
  for name, lhs in pairs(opts.keymaps or {}) do
    if M.defaults.keymaps[name] == nil then
      fail(('unknown keymap %q (accept, accept_word, accept_line, next, prev, dismiss)'):format(tostring(name)))
    elseif lhs ~= false and (type(lhs) ~= 'string' or lhs == '') then
      fail(('keymap %s must be a key or false, got %s'):format(name, vim.inspect(lhs)))
    end
    options.keymaps[name] = lhs
  end
  settle_debounce(options, opts)
  return options
end

return M
