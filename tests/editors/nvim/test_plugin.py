"""The plugin in real headless Neovim 0.12 with the real server (``kvcomplete serve``) on a tiny random model,
through both UIs: the built-in ``vim.lsp.inline_completion`` and the extmark ghost text of Neovim 0.11, forced
with ``ui = 'extmarks'``. Keys are typed as a user would; the tiny model's random words are fine for checking
what lands in the buffer. The server answers only with finished suggestions (``latencyBudgetMs: 0``), so that
what a test reads on screen does not grow under it, except in the test of suggestions that grow.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.editors.nvim.neovim import Neovim

pytestmark = pytest.mark.e2e  # headless Neovims, each with a server

UIS = ("builtin", "extmarks")
SOURCE = "# café ☕ 😀\ndef add(a, b):\n"

# The ghost text on screen, from whichever UI drew it: its place, its text (lines joined) and the "(i/k)" hint.
GHOST = """
  local hints = { ComplHintMore = true, KvcompleteHint = true }
  for _, name in ipairs({ 'nvim.lsp.inline_completion', 'kvcomplete.ghost' }) do
    local ns = vim.api.nvim_get_namespaces()[name]
    local marks = ns and vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true }) or {}
    if #marks > 0 then
      local details, lines, hint = marks[1][4], {}, nil
      for _, chunks in ipairs({ details.virt_text, unpack(details.virt_lines or {}) }) do
        local line = ''
        for _, chunk in ipairs(chunks) do
          if hints[chunk[2]] then hint = vim.trim(chunk[1]) else line = line .. chunk[1] end
        end
        table.insert(lines, line)
      end
      return { row = marks[1][2], col = marks[1][3], text = table.concat(lines, '\\n'), hint = hint }
    end
  end
"""
LAST_LINE = "return vim.api.nvim_buf_get_lines(0, -2, -1, true)[1]"


def ghost_where(condition: str) -> str:
    """Lua: the ghost text ``g`` once ``condition`` holds for it."""
    return f"local g = (function() {GHOST} end)()\nreturn g and ({condition}) and g"


def stats_where(nvim: Neovim, condition: str = "true") -> str:
    """Lua: the server's ``kvcomplete/stats`` ``s`` once ``condition`` holds for them."""
    return nvim.CLIENT + f"local s = client:request_sync('kvcomplete/stats', vim.empty_dict(), 5000).result\n" \
                         f"return s and ({condition}) and s"


@pytest.fixture(scope="module")
def neovims(start_neovim, tmp_path_factory, tiny_model_dir):
    """One Neovim per UI, each with a file open at once so that both servers load the model at the same time."""
    settings = {"model": str(tiny_model_dir), "maxTokens": 8, "suggestions": 3, "latencyBudgetMs": 0}
    started: dict[str, Neovim] = {}
    try:
        for ui in UIS:
            started[ui] = start_neovim(tmp_path_factory.mktemp(f"nvim-{ui}"), ui, settings)
            edit(started[ui], "start.py")
        yield started
    finally:
        for nvim in started.values():
            nvim.close()


@pytest.fixture(params=UIS)
def nvim(request, neovims) -> Neovim:
    return neovims[request.param]


def edit(nvim: Neovim, name: str) -> None:
    """Edit a new file with SOURCE in normal mode (the first one starts the server)."""
    path = nvim.home / name
    path.write_text(SOURCE)
    nvim.keys("<Esc>")
    nvim.lua(f"vim.cmd.edit({json.dumps(str(path))})")


def open_file(nvim: Neovim, name: str) -> None:
    """Edit a new file and wait until the server's engine holds it (the model is loaded)."""
    edit(nvim, name)
    nvim.until(nvim.IN_SYNC, what="the engine to hold the buffer")


def type_and_wait_for_ghost(nvim: Neovim) -> dict:
    """Type a new last line in insert mode; the ghost text that appears at the cursor."""
    nvim.keys("Goreturn a")
    ghost = nvim.until(GHOST, what="ghost text")
    lines = nvim.lua(nvim.LINES)
    assert (ghost["row"], ghost["col"]) == (len(lines) - 1, len(lines[-1].encode()))  # at the cursor
    assert ghost["text"].strip() and "hint" not in ghost
    return ghost


def wait_for_new_last_line(nvim: Neovim, before: str) -> str:
    return nvim.until(f"local line = vim.api.nvim_buf_get_lines(0, -2, -1, true)[1]\n"
                      f"return line ~= {json.dumps(before)} and line", what="the last line to change")


def test_ghost_text_appears_and_cycles(nvim):
    open_file(nvim, "cycle.py")  # start.py, open since the start, is now hidden
    nvim.lua(nvim.CLIENT + """  -- record the document of each inline completion request
      _G.asked = {}
      local request = client.request
      client.request = function(self, method, params, ...)
        if method == 'textDocument/inlineCompletion' then table.insert(_G.asked, params.textDocument.uri) end
        return request(self, method, params, ...)
      end
    """)
    first = type_and_wait_for_ghost(nvim)
    asked = nvim.lua("return _G.asked")
    assert asked and set(asked) == {(nvim.home / "cycle.py").as_uri()}  # none for hidden buffers
    nvim.keys("<M-]>")
    second = nvim.until(ghost_where("g.hint and g.hint:match('^%(2/%d%)$')"), what="the second suggestion")
    assert second["text"] != first["text"]
    nvim.keys("<M-[>")
    back = nvim.until(ghost_where("g.hint and g.hint:match('^%(1/%d%)$')"), what="the first suggestion again")
    assert back["text"] == first["text"]
    nvim.keys("<Esc>")


@pytest.mark.parametrize(("key", "kind"), [("<C-Right>", "word"), ("<C-Down>", "line")], ids=["word", "line"])
def test_partial_accept_inserts_its_part_reports_it_and_the_rest_follows(nvim, accept_part, key, kind):
    open_file(nvim, f"partial-{kind}.py")
    ghost = type_and_wait_for_ghost(nvim)
    accepts = nvim.lua(stats_where(nvim))["accepts"]
    before = nvim.lua(LAST_LINE)
    accepted = accept_part(ghost["text"], kind)
    nvim.keys(key)
    after = wait_for_new_last_line(nvim, before)
    assert after == before + accepted
    assert nvim.lua("return vim.api.nvim_win_get_cursor(0)[2]") == len(after.encode())
    if kind == "word":
        assert accepted != ghost["text"], "the tiny model's suggestion has more than one word"
    rest = ghost["text"][len(accepted):]
    if rest:  # the ghost text goes on with the remainder (at once, or with the server's type-along answer)
        nvim.until(ghost_where(f"g.text == {json.dumps(rest)}"), what=f"the remainder {rest!r}")
    nvim.until(stats_where(nvim, f"s.accepts == {accepts + 1}"), what="the server to count the accept")
    nvim.keys("<Esc>")


def test_tab_accepts_all_and_the_server_keeps_the_same_text(nvim):
    open_file(nvim, "accept.py")
    ghost = type_and_wait_for_ghost(nvim)
    before = nvim.lua(LAST_LINE)
    nvim.keys("<Tab>")
    assert wait_for_new_last_line(nvim, before) == before + ghost["text"]
    nvim.keys("<Esc>")
    state = nvim.until(nvim.CLIENT + """
      local reply = client:request_sync('kvcomplete/document', { uri = vim.uri_from_bufnr(0) }, 5000)
      local buffer = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, true), '\\n') .. '\\n'
      return reply.result.text == buffer and { encoding = client.offset_encoding, document = reply.result }
    """, what="the server's copy to equal the buffer")
    assert state["encoding"] == "utf-8"  # Neovim offers utf-8 first
    assert state["document"]["engineInSync"] is True


def test_dismiss_hides_and_keys_do_their_usual_job_without_a_suggestion(nvim):
    open_file(nvim, "dismiss.py")
    type_and_wait_for_ghost(nvim)
    before = nvim.lua(LAST_LINE)
    nvim.keys("<C-]>")
    nvim.until(f"return (function() {GHOST} end)() == nil", what="the ghost text to go")
    nvim.keys("<Tab>")  # nothing to accept: <Tab> indents (the python ftplugin expands it to spaces)
    after = wait_for_new_last_line(nvim, before)
    assert after.startswith(before) and after[len(before):].strip(" \t") == "" and len(after) > len(before)
    nvim.keys("<Esc>")


def test_suggestions_grow_without_a_keystroke(nvim):
    """With a budget of 1 ms the first answer holds what was decoded by then (maybe nothing); the server's
    ``kvcomplete/suggestionsChanged`` makes the plugin ask again, and the ghost text that ends on screen is a
    prefix of (at most: equal to) the first suggestion the server gives without a budget."""
    open_file(nvim, "grow.py")
    nvim.lua(nvim.CLIENT + """  -- count inline completion requests, notifications and the requests they made
      _G.grow = { requests = 0, notified = 0, refreshed = 0 }
      local request = client.request
      client.request = function(self, method, ...)
        if method == 'textDocument/inlineCompletion' then _G.grow.requests = _G.grow.requests + 1 end
        return request(self, method, ...)
      end
      local changed = client.handlers['kvcomplete/suggestionsChanged']
      client.handlers['kvcomplete/suggestionsChanged'] = function(...)
        local before = _G.grow.requests
        _G.grow.notified = _G.grow.notified + 1
        changed(...)
        _G.grow.refreshed = _G.grow.refreshed + (_G.grow.requests > before and 1 or 0)
      end
    """)
    def budget(ms: int) -> None:
        nvim.lua(nvim.CLIENT + "client:notify('workspace/didChangeConfiguration', "
                          f"{{ settings = {{ latencyBudgetMs = {ms} }} }})")

    budget(1)
    try:
        nvim.keys("Goreturn a")
        nvim.until("return _G.grow.refreshed > 0", what="a notification that asks again")
        shown = nvim.until(GHOST, what="ghost text")
        cursor = nvim.lua(nvim.CLIENT + "return vim.lsp.util.make_position_params(0, client.offset_encoding).position")
        nvim.keys("<Esc>")
    finally:
        budget(0)
    final = nvim.lua(nvim.CLIENT + f"""
      local params = {{ textDocument = {{ uri = vim.uri_from_bufnr(0) }}, context = {{ triggerKind = 1 }},
                       position = vim.json.decode({json.dumps(json.dumps(cursor))}) }}
      local reply = client:request_sync('textDocument/inlineCompletion', params, 30000)
      return (reply.result.items or reply.result)[1].insertText
    """)
    assert final.startswith(shown["text"]), (shown, final)


def test_checkhealth_and_stats_command(nvim):
    open_file(nvim, "health.py")
    report = "\n".join(nvim.lua("vim.cmd('checkhealth kvcomplete')\n"
                                "local lines = vim.api.nvim_buf_get_lines(0, 0, -1, true)\nvim.cmd('tabclose')\n"
                                "return lines"))
    ui, server = nvim.lua("return require('kvcomplete').ui"), nvim.options["cmd"][0]
    assert "ERROR" not in report and "WARNING" not in report, report
    for expected in ["OK Neovim 0.12", "OK ghost text: " + ("the built-in" if ui == "builtin" else "extmarks"),
                     f"OK {server} found", f"OK {server} --version: kvcomplete ", "position encoding utf-8",
                     "OK model loaded", "server: model ready: {'model': ", "'device': '", "requests "]:
        assert expected in report, report
    nvim.lua("vim.cmd('messages clear')\nvim.cmd('KvcompleteStats')")
    messages = nvim.until("local m = vim.fn.execute('messages'); return m:find('kvcomplete stats', 1, true) and m",
                          what=":KvcompleteStats output")
    stats = nvim.lua(stats_where(nvim))
    assert f"accepts: {stats['accepts']}" in messages and "latencyMs.p50: " in messages
    assert "first ghost text p50 " in messages and "final suggestion p50 " in messages
