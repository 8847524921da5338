-- kvcomplete in Neovim 0.12 with nothing but the built-in LSP client (docs/lsp.md).
-- Try it: nvim --clean -u editors/nvim/minimal.lua some_file.py
vim.lsp.config('kvcomplete', {
  cmd = { 'kvcomplete', 'serve' },
  init_options = { suggestions = 3, maxTokens = 48 }, -- any setting of docs/lsp.md
})
vim.lsp.enable('kvcomplete')
vim.lsp.inline_completion.enable()
vim.keymap.set('i', '<Tab>', function()
  if not vim.lsp.inline_completion.get() then return '<Tab>' end
end, { expr = true, desc = 'Accept the kvcomplete suggestion' })
vim.keymap.set('i', '<M-]>', function() vim.lsp.inline_completion.select({ count = 1 }) end)
