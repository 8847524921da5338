-- kvcomplete in Neovim with nothing but this plugin (docs/editors.md).
-- Try it: nvim --clean -u editors/nvim/minimal.lua some_file.py   (kvcomplete on PATH, or set cmd below)
vim.opt.runtimepath:prepend(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h'))
require('kvcomplete').setup({
  -- cmd = { '/path/to/kvcomplete/.venv/bin/kvcomplete', 'serve' },
  settings = { suggestions = 3, maxTokens = 48 }, -- any setting of docs/lsp.md
})
