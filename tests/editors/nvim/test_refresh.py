"""``kvcomplete/suggestionsChanged`` in real headless Neovim 0.12, through both UIs, with an in-process fake server
(``vim.lsp.config`` accepts a Lua function as ``cmd``): it answers each inline completion request with a longer
suggestion and sends the notification as the real server does, through the client's RPC dispatchers. A current
notification re-requests at once; a stale one (other version, position, document, or not in insert mode) does not.
The fake speaks UTF-16, so the position must be converted from Neovim's byte column.
"""

from __future__ import annotations

import json

import pytest

from tests.editors.nvim import neovim
from tests.editors.nvim.neovim import Neovim

pytestmark = pytest.mark.e2e  # a headless Neovim per test

LINE = "x = 'é☕😀'"  # the cursor after it: 15 bytes, 10 UTF-16 code units
COLUMN = len(LINE.encode("utf-16-le")) // 2

FAKE_SERVER = "_G.fake = { requests = {} }" + neovim.fake_server(
    "{ positionEncoding = 'utf-16', inlineCompletionProvider = true, textDocumentSync = { openClose = true, "
    "change = 2 } }",
    """if method == 'textDocument/inlineCompletion' then
          table.insert(_G.fake.requests, params)
          result = { items = { { insertText = (' + 1'):rep(#_G.fake.requests) } } }
        end""")

# The ghost text on screen, from whichever UI drew it.
GHOST = """
  for _, name in ipairs({ 'nvim.lsp.inline_completion', 'kvcomplete.ghost' }) do
    local ns = vim.api.nvim_get_namespaces()[name]
    local marks = ns and vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true }) or {}
    if #marks > 0 then
      return marks[1][4].virt_text[1][1]
    end
  end
"""

# Send the notifications `DATA.changes` (each a change of the current one, the cursor at `DATA.column`) in order,
# with the number of inline completion requests made after each; the handler runs synchronously, so a request it
# makes is counted at once.
NOTIFY = """
  local client = vim.lsp.get_clients({ bufnr = 0, name = 'kvcomplete' })[1]
  local bufnr = vim.api.nvim_get_current_buf()
  local current = { uri = vim.uri_from_bufnr(bufnr), version = vim.lsp.util.buf_versions[bufnr],
                    position = { line = vim.api.nvim_win_get_cursor(0)[1] - 1, character = DATA.column } }
  local counts = {}
  for _, change in ipairs(DATA.changes) do
    local before = #_G.fake.requests
    _G.fake.dispatchers.notification('kvcomplete/suggestionsChanged', vim.tbl_deep_extend('force', current, change))
    table.insert(counts, #_G.fake.requests - before)
  end
  local last = _G.fake.requests[#_G.fake.requests]
  return { counts = counts, encoding = client.offset_encoding, last = last.position,
           mode = vim.api.nvim_get_mode().mode }
"""


@pytest.fixture(params=("builtin", "extmarks"))
def nvim(request, start_neovim, tmp_path):
    nvim = start_neovim(tmp_path / request.param, request.param)
    try:
        nvim.lua(FAKE_SERVER)
        path = tmp_path / "refresh.py"
        path.write_text("import os\n")
        nvim.lua(f"vim.cmd.edit({json.dumps(str(path))})")
        nvim.until("return #vim.lsp.get_clients({ bufnr = 0, name = 'kvcomplete' }) > 0", what="the fake server")
        yield nvim
    finally:
        nvim.close()


def notify(nvim: Neovim, *changes: dict, column: int = COLUMN) -> dict:
    """Send the notifications (``{}`` = the current one, at the cursor ``column``), in order."""
    return nvim.lua(NOTIFY, {"changes": changes, "column": column})


def test_a_current_notification_re_requests_and_the_grown_suggestion_shows(nvim):
    nvim.keys(f"Go{LINE}")
    assert nvim.until(GHOST, what="the first ghost text") == " + 1"
    got = notify(nvim, {})
    assert got["mode"].startswith("i") and got["encoding"] == "utf-16"
    assert got["counts"] == [1]
    assert got["last"] == {"line": 1, "character": COLUMN}  # asked at the cursor, in UTF-16
    assert nvim.until(f"local g = (function() {GHOST} end)()\nreturn g ~= ' + 1' and g", what="the grown ghost text") \
        == " + 1 + 1"
    nvim.keys("<Esc>")


def test_stale_notifications_are_ignored(nvim):
    nvim.keys(f"Go{LINE}")
    nvim.until(GHOST, what="the first ghost text")
    got = notify(nvim,
                 {"version": -1}, {"version": 10**6},  # the buffer moved on, or not there yet
                 {"position": {"character": len(LINE.encode())}},  # the byte column, not the UTF-16 one
                 {"position": {"line": 0}},
                 {"uri": (nvim.home / "other.py").as_uri()},
                 {})  # and the current one still re-requests
    assert got["counts"] == [0, 0, 0, 0, 0, 1]
    nvim.keys("<Esc>")  # normal mode, the cursor on the last character
    assert notify(nvim, {}, column=COLUMN - 1)["counts"] == [0]


# Send the server's log message DATA.message; the number of inline completion requests it made (synchronously).
LOG = """
  local before = #_G.fake.requests
  _G.fake.dispatchers.notification('window/logMessage', { type = 3, message = DATA.message })
  return #_G.fake.requests - before
"""
READY = "kvcomplete.lsp_server.server: model ready: {'model': 'tiny', 'device': 'cpu'}"


def test_the_model_ready_message_asks_again_in_insert_mode(nvim):
    """A request sent while the model loads waits on the server 30 s at most, then has no answer; with no key
    typed, nothing would ask again once the model is ready."""
    nvim.keys(f"Go{LINE}")
    nvim.until(GHOST, what="the first ghost text")
    assert nvim.lua(LOG, {"message": "kvcomplete.lsp_server.server: loading the default model"}) == 0
    assert nvim.lua(LOG, {"message": "kvcomplete.lsp_server.server: no model: out of memory"}) == 0
    assert nvim.lua(LOG, {"message": READY}) == 1
    assert nvim.until(f"local g = (function() {GHOST} end)()\nreturn g ~= ' + 1' and g", what="the new answer") \
        == " + 1 + 1"
    nvim.keys("<Esc>")
    assert nvim.lua(LOG, {"message": READY}) == 0  # normal mode: nothing to show
