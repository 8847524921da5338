--- kvcomplete for Neovim: `require('kvcomplete').setup({...})` starts `kvcomplete serve` through
--- `vim.lsp.config`/`vim.lsp.enable` and shows its suggestions as ghost text, drawn by Neovim 0.12's
--- `vim.lsp.inline_completion` or, on 0.11, by this plugin with extmarks. See :help kvcomplete.
local config = require('kvcomplete.config')
local keymaps = require('kvcomplete.keymaps')
local next_edits = require('kvcomplete.next_edits')
local refresh = require('kvcomplete.refresh')
local server = require('kvcomplete.server')

local M = {}

---@class kvcomplete.UI
---@field attach fun(bufnr: integer, client: vim.lsp.Client, options: kvcomplete.Options)
---@field accept fun(bufnr: integer, kind: kvcomplete.AcceptKind): boolean
---@field cycle fun(bufnr: integer, count: integer): boolean
---@field dismiss fun(bufnr: integer): boolean
---@field refresh fun(bufnr: integer) ask again at the cursor now (the suggestions there grew, the model is ready)

---@type kvcomplete.Options? the options of the last setup()
M.options = nil
---@type 'builtin'|'extmarks'|nil the UI chosen by the last setup()
M.ui = nil

--- The UI that `ui` asks for on this Neovim.
---@param ui 'auto'|'builtin'|'extmarks'
---@return 'builtin'|'extmarks'
local function choose_ui(ui)
  local has_builtin = vim.fn.has('nvim-0.12') == 1
  if ui == 'builtin' and not has_builtin then
    error("kvcomplete.setup: ui = 'builtin' needs Neovim 0.12 (vim.lsp.inline_completion); use 'auto'", 0)
  end
  if ui == 'auto' then
    return has_builtin and 'builtin' or 'extmarks'
  end
  return ui
end

--- Configure kvcomplete; calling it again replaces the previous options.
---@param opts table? see :help kvcomplete-options
function M.setup(opts)
  if vim.fn.has('nvim-0.11') == 0 then
    error('kvcomplete needs Neovim 0.11 or newer (vim.lsp.config)', 0)
  end
  local options = config.resolve(opts)
  local ui_name = choose_ui(options.ui)
  local ui = require(ui_name == 'builtin' and 'kvcomplete.builtin' or 'kvcomplete.ghost') ---@type kvcomplete.UI
  M.options, M.ui = options, ui_name
  vim.api.nvim_create_autocmd('LspAttach', {
    group = vim.api.nvim_create_augroup('kvcomplete', { clear = true }),
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == server.NAME then
        ui.attach(args.buf, client, options)
      end
    end,
  })
  keymaps.set(options.keymaps, ui)
  next_edits.setup(options)
  server.start(options, { [refresh.METHOD] = refresh.handler(ui), [next_edits.READY] = next_edits.handler },
    refresh.on_model_ready(ui))
end

return M
