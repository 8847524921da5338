-- Commands that work before and without setup(); the plugin does nothing else until setup() is called.
if vim.g.loaded_kvcomplete then
  return
end
vim.g.loaded_kvcomplete = true

vim.api.nvim_create_user_command('KvcompleteStats', function()
  require('kvcomplete.stats').show()
end, { desc = 'Show the counters of the kvcomplete servers (kvcomplete/stats)' })
