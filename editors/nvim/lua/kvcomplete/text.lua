--- What a partial accept takes from a suggestion, as plain string functions (no editor state), so that both UIs
--- split suggestions the same way and the rules are testable on their own.
local M = {}

-- Bytes 0x80-0xFF count as word characters: a UTF-8 letter is never split, and a word never ends inside one.
local WORD = '[%w_\128-\255]'
local PUNCTUATION = '[^%w_\128-\255%s]'

--- Pattern of each partial accept, anchored at the start of the text that is still ahead of the cursor.
local PATTERNS = {
  -- a word: the whitespace before it (newlines included), then punctuation, then letters/digits/_
  word = '^%s*' .. PUNCTUATION .. '*' .. WORD .. '*',
  -- a line: the line breaks before it, then the rest of that line without its line break
  line = '^\n*[^\n]*',
}

---@alias kvcomplete.AcceptKind 'all'|'word'|'line'

--- The part of `text` that an accept of `kind` inserts: all of it, its next word, or its next line.
--- It is never empty unless `text` is.
---@param text string
---@param kind kvcomplete.AcceptKind
---@return string
function M.part(text, kind)
  if kind == 'all' then
    return text
  end
  local pattern = PATTERNS[kind]
  if not pattern then
    error(("kvcomplete: unknown accept kind %q (all, word or line)"):format(tostring(kind)), 2)
  end
  return text:match(pattern)
end

--- What is left of `suggestion` once `typed` (the text between where it starts and the cursor) is in the
--- buffer; nil when the typed text is not its beginning.
---@param suggestion string
---@param typed string
---@return string?
function M.remainder(suggestion, typed)
  if suggestion:sub(1, #typed) ~= typed then
    return nil
  end
  return suggestion:sub(#typed + 1)
end

return M
