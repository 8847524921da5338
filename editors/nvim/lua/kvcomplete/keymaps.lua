--- Insert-mode keys for the suggestions. Each is an <expr> mapping that acts when a suggestion is on screen
--- and otherwise types its own key, so <Tab> still indents where there is nothing to accept.
local M = {}

---@class (private) kvcomplete.Action
---@field run fun(ui: kvcomplete.UI, bufnr: integer): boolean
---@field desc string

---@type table<string, kvcomplete.Action>
local ACTIONS = {
  accept = { run = function(ui, bufnr) return ui.accept(bufnr, 'all') end, desc = 'Accept the suggestion' },
  accept_word = { run = function(ui, bufnr) return ui.accept(bufnr, 'word') end, desc = 'Accept its next word' },
  accept_line = { run = function(ui, bufnr) return ui.accept(bufnr, 'line') end, desc = 'Accept its next line' },
  next = { run = function(ui, bufnr) return ui.cycle(bufnr, 1) end, desc = 'Next suggestion' },
  prev = { run = function(ui, bufnr) return ui.cycle(bufnr, -1) end, desc = 'Previous suggestion' },
  dismiss = { run = function(ui, bufnr) return ui.dismiss(bufnr) end, desc = 'Dismiss the suggestions' },
}

---@type table<string, string> lhs of the keys set last, to remove them when setup() runs again
local mapped = {}

--- Map `keymaps` (name → key or false) in insert mode to the actions of `ui`.
---@param keymaps kvcomplete.Keymaps
---@param ui kvcomplete.UI
function M.set(keymaps, ui)
  for _, lhs in pairs(mapped) do
    pcall(vim.keymap.del, 'i', lhs)
  end
  mapped = {}
  for name, lhs in pairs(keymaps) do
    if lhs then
      local action = ACTIONS[name]
      vim.keymap.set('i', lhs, function()
        return action.run(ui, vim.api.nvim_get_current_buf()) and '' or lhs
      end, { expr = true, desc = 'kvcomplete: ' .. action.desc })
      mapped[name] = lhs
    end
  end
end

return M
