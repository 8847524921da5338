"""Next edits (``lua/kvcomplete/next_edits.lua``) in one real headless Neovim 0.12 with an in-process fake server
(``vim.lsp.config`` accepts a Lua function as ``cmd``, as in test_refresh.py): the fake sends
``kvcomplete/nextEditsReady`` through the client's RPC dispatchers, answers ``kvcomplete/nextEdits``, and records
the ``kvcomplete/nextEditFeedback`` notifications. It speaks UTF-16, and the last line has a character that takes
3 bytes and 1 UTF-16 unit, so every range goes through the conversion between the two. The last test goes through
the real server on a tiny random model instead: a rename made once, its other uses proposed, one applied.
"""

from __future__ import annotations

import json

import pytest

from tests.editors.nvim import neovim as nvim_helpers

pytestmark = pytest.mark.e2e  # a headless Neovim per test

# A rename of `total` to `amount` made once, on line 0: the server proposes the two calls, line 2's first.
SOURCE = ["def amount(xs):", "    return sum(xs)", "print(total([1]))", "x = '☕'; total([2])"]
LAST_AT = SOURCE[3].index("total")  # in characters = UTF-16 units here; the byte column is 2 more


def rename(line: int, character: int, score: float) -> dict:
    return {"range": {"start": {"line": line, "character": character}, "end": {"line": line, "character": character + 5}},
            "oldText": "total", "newText": "amount", "score": score}


EDITS = [rename(2, 6, 0.9), rename(3, LAST_AT, 0.8)]

FAKE_SERVER = "_G.fake = { feedback = {}, requests = {} }" + nvim_helpers.fake_server(
    "{ positionEncoding = 'utf-16', textDocumentSync = { openClose = true, change = 2 } }",
    """if method == 'kvcomplete/nextEdits' then
          table.insert(_G.fake.requests, params)
          result = _G.fake.answer
        end""",
    "if method == 'kvcomplete/nextEditFeedback' then table.insert(_G.fake.feedback, params) end")

# Send kvcomplete/nextEditsReady with DATA.edits for the current buffer at its version plus DATA.behind (0: current).
READY = """
  local bufnr = vim.api.nvim_get_current_buf()
  _G.fake.dispatchers.notification('kvcomplete/nextEditsReady', { uri = vim.uri_from_bufnr(bufnr),
    version = vim.lsp.util.buf_versions[bufnr] - DATA.behind, edits = DATA.edits })
"""

# What is on screen: the highlighted old text (row, byte columns) and the new text after it; the cursor (1-based
# row, byte column); the lines; the feedback the server got.
STATE = """
  local ns = vim.api.nvim_get_namespaces()['kvcomplete.next_edits']
  local shown = nil
  for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })) do
    local details = mark[4]
    shown = shown or {}
    if details.sign_text then
      shown.signs = shown.signs or {}
      table.insert(shown.signs, mark[2])
    elseif details.hl_group then
      shown.old = { mark[2], mark[3], details.end_row, details.end_col }
    else
      shown.new = { mark[2], mark[3], details.virt_text[1][1], #(details.virt_lines or {}) }
    end
  end
  return { shown = shown or vim.NIL, cursor = vim.api.nvim_win_get_cursor(0),
           lines = vim.api.nvim_buf_get_lines(0, 0, -1, true), feedback = _G.fake and _G.fake.feedback }
"""


@pytest.fixture(scope="module")
def neovim(start_neovim, tmp_path_factory):
    nvim = start_neovim(tmp_path_factory.mktemp("nvim"), "extmarks")
    try:
        nvim.lua(FAKE_SERVER)
        yield nvim
    finally:
        nvim.close()


@pytest.fixture
def nvim(neovim, tmp_path):
    """The module's Neovim on a fresh buffer of SOURCE (``tmp_path/rename.py``), the fake's records emptied."""
    path = tmp_path / "rename.py"
    path.write_text("\n".join(SOURCE) + "\n")
    neovim.keys("<Esc>")
    neovim.lua(f"vim.cmd('silent! %bwipeout!'); vim.cmd.edit({json.dumps(str(path))})\n"
               "_G.fake.feedback, _G.fake.requests, _G.fake.answer = {}, {}, nil")
    neovim.until("return #vim.lsp.get_clients({ bufnr = 0, name = 'kvcomplete' }) > 0", what="the fake server")
    return neovim


def ready(nvim, edits: list[dict], behind: int = 0) -> dict:
    nvim.lua(READY, {"edits": edits, "behind": behind})
    return nvim.lua(STATE)


def test_the_best_proposal_shows_at_its_place_and_a_stale_set_does_not(nvim):
    assert ready(nvim, EDITS, behind=1)["shown"] is None  # for the version before: stale
    shown = ready(nvim, EDITS)["shown"]
    assert shown == {"old": [2, 6, 2, 11], "new": [2, 11, "amount", 0], "signs": [3]}  # a sign at the other one
    multi = {**EDITS[0], "newText": "amount(\n    xs)"}
    assert ready(nvim, [multi])["shown"]["new"] == [2, 11, "amount(", 1]  # the second line as a virtual line


def test_tab_jumps_then_applies_and_shows_the_next_then_the_last(nvim):
    ready(nvim, EDITS)
    nvim.keys("gg<Tab>")
    state = nvim.lua(STATE)
    assert state["cursor"] == [3, 6] and state["lines"] == SOURCE  # jumped, nothing applied
    assert state["shown"]["signs"] == [3]  # the other proposal's line
    nvim.keys("<Tab>")
    state = nvim.lua(STATE)
    assert state["lines"][2] == "print(amount([1]))"
    byte_at = len(SOURCE[3][:LAST_AT].encode())
    assert state["shown"]["old"] == [3, byte_at, 3, byte_at + 5] and "signs" not in state["shown"]
    nvim.keys("<Tab><Tab>")
    state = nvim.lua(STATE)
    assert state["lines"][3] == "x = '☕'; amount([2])" and state["shown"] is None
    assert state["feedback"] == [{"uri": nvim.lua("return vim.uri_from_bufnr(0)"), "newText": "amount",
                                  "action": "accepted", "range": edit["range"]} for edit in EDITS]


def test_an_edit_elsewhere_shifts_a_proposal_and_an_edit_at_its_place_drops_it(nvim):
    ready(nvim, EDITS)
    nvim.keys("ggO# renamed<Esc>")
    assert nvim.until(f"local s = (function() {STATE} end)()\nreturn s.shown ~= vim.NIL and s.shown.old[1] == 3 "
                      "and s.shown", what="the shifted proposal")["old"] == [3, 6, 3, 11]
    nvim.keys("5G$i!<Esc>")  # typed on the line of the other proposal, not at it
    nvim.keys("4G9|x")  # deleted a character of the shown one
    state = nvim.until(f"local s = (function() {STATE} end)()\nreturn s.shown ~= vim.NIL and s.shown.old[1] == 4 "
                       "and s", what="the next proposal")
    assert state["lines"][3:] == ["print(toal([1]))", "x = '☕'; total([2]!)"]
    assert state["shown"]["old"] == [4, LAST_AT + 2, 4, LAST_AT + 7] and state["feedback"] == []


def test_a_proposal_whose_place_changed_is_never_applied(nvim):
    ready(nvim, EDITS)
    # The change and the key in one go, before TextChanged could drop the proposal: the check before applying does.
    state = nvim.lua("""
      vim.api.nvim_buf_set_text(0, 2, 6, 2, 7, { 'T' })
      vim.api.nvim_win_set_cursor(0, { 3, 0 })
      require('kvcomplete.next_edits').jump_or_apply(0 + vim.api.nvim_get_current_buf())
    """ + STATE)
    assert state["lines"][2] == "print(Total([1]))" and state["feedback"] == []
    assert state["shown"]["old"][0] == 3  # the next one instead


def test_esc_dismisses_and_reports_and_the_keys_are_theirs_again(nvim):
    ready(nvim, EDITS)
    nvim.keys("<Esc>")
    state = nvim.lua(STATE)
    assert state["shown"] is None
    assert [(f["action"], f["range"]) for f in state["feedback"]] == [("dismissed", EDITS[0]["range"])]
    nvim.keys("3G<Tab>")  # normal-mode <Tab> (CTRL-I) with nothing shown: nothing applied, nothing reported
    assert nvim.lua(STATE)["lines"] == SOURCE and len(nvim.lua(STATE)["feedback"]) == 1


def test_insert_mode_tab_is_left_alone(nvim):
    ready(nvim, EDITS)
    nvim.lua("vim.bo.expandtab = false; vim.bo.softtabstop = 0")  # <Tab> inserts a tab, whatever the ftplugin says
    nvim.keys("2GA<Tab>x<Esc>")
    state = nvim.lua(STATE)
    assert state["lines"][1] == SOURCE[1] + "\tx" and state["lines"][2] == SOURCE[2]
    assert state["shown"]["old"] == [2, 6, 2, 11] and state["feedback"] == []


def test_the_command_asks_at_the_cursor_and_shows_the_answer(nvim):
    nvim.lua("""
      local bufnr = vim.api.nvim_get_current_buf()
      _G.fake.answer = { uri = vim.uri_from_bufnr(bufnr), version = vim.lsp.util.buf_versions[bufnr], edits = DATA }
    """, EDITS[1:])
    nvim.keys("4G$:KvcompleteNextEdit<CR>")
    requests = nvim.until("return #_G.fake.requests > 0 and _G.fake.requests", what="the request")
    assert requests[0]["position"] == {"line": 3, "character": len(SOURCE[3]) - 1}  # UTF-16, not bytes
    shown = nvim.until(f"return (function() {STATE} end)().shown", what="the answer on screen")
    assert shown["old"][0] == 3


def test_with_next_edits_off_only_the_asked_sets_show(nvim):
    nvim.lua("local o = require('kvcomplete').options\n"
             "require('kvcomplete.next_edits').setup(vim.tbl_extend('force', o, { next_edits = false }))")
    try:
        assert ready(nvim, EDITS)["shown"] is None
        nvim.lua("local b = vim.api.nvim_get_current_buf()\n"
                 "_G.fake.answer = { uri = vim.uri_from_bufnr(b), version = vim.lsp.util.buf_versions[b], edits = DATA }",
                 EDITS)
        nvim.keys(":KvcompleteNextEdit<CR>")
        assert nvim.until(f"return (function() {STATE} end)().shown", what="the answer")["old"] == [2, 6, 2, 11]
    finally:
        nvim.lua("require('kvcomplete.next_edits').setup(require('kvcomplete').options)")


def test_through_the_real_server_a_rename_made_once_is_proposed_and_tab_applies_it(start_neovim, tmp_path,
                                                                                     tiny_model_dir):
    """The real server on a tiny random model, its threshold at the bottom so that every candidate is proposed
    (the model's scores are noise): renaming ``total`` once proposes its other two occurrences."""
    settings = {"model": str(tiny_model_dir), "nextEditsThreshold": -1e9, "maxTokens": 4}
    nvim = start_neovim(tmp_path / "nvim", "extmarks", settings)
    try:
        path = tmp_path / "rename.py"
        path.write_text("def total(xs):\n    return sum(xs)\nprint(total([1]))\nprint(total([2]))\n")
        nvim.lua(f"vim.cmd.edit({json.dumps(str(path))})")
        nvim.until(nvim.IN_SYNC, what="the engine to hold the buffer")
        nvim.keys("gg5|ciwamount<Esc>")  # `total` on line 0, renamed once
        shown = nvim.until(f"return (function() {STATE} end)().shown", what="the next edits", timeout=60)
        assert shown["new"][2] == "amount" and shown["old"][0] in (2, 3)
        nvim.keys(f"{shown['old'][0] + 1}G<Tab>")
        assert nvim.lua(nvim.LINES)[shown["old"][0]].startswith("print(amount(")
        accepted = "return client:request_sync('kvcomplete/stats', {}, 5000).result.nextEditsAccepted"
        assert nvim.until(nvim.CLIENT + accepted, what="the accept counted by the server") == 1
    finally:
        nvim.close()


def test_the_options_and_their_errors(run_lua, tmp_path):
    got = run_lua(tmp_path, """
      local config = require('kvcomplete.config')
      local errors = {}
      for _, opts in ipairs(DATA) do
        local ok, message = pcall(config.resolve, opts)
        table.insert(errors, ok and 'accepted' or message)
      end
      local defaults = config.resolve({})
      return { errors = errors, defaults = { defaults.next_edits, defaults.next_edit_key, defaults.next_edit_dismiss_key },
               off = config.resolve({ next_edit_key = false }).next_edit_key }
    """, [{"next_edits": "yes"}, {"next_edit_key": ""}, {"next_edit_dismiss_key": 1}])
    assert got["defaults"] == [True, "<Tab>", "<Esc>"] and got["off"] is False
    assert got["errors"] == ["kvcomplete.setup: option next_edits must be true or false, got \"yes\"",
                             "kvcomplete.setup: option next_edit_key must be a key or false, got \"\"",
                             "kvcomplete.setup: option next_edit_dismiss_key must be a key or false, got 1"]
