"""setup() without a server: options and their errors (``lua/kvcomplete/config.lua``), the shipped minimal config,
and :KvcompleteStats' formatting and its message when no server runs."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.e2e  # nvim

BAD_OPTIONS = [
    ("not a table", "expects a table of options, got string"),
    ({"model": "x"}, 'unknown option "model"'),
    ({"cmd": "kvcomplete"}, "option cmd must be a non-empty list of strings"),
    ({"cmd": []}, "option cmd must be a non-empty list of strings"),
    ({"filetypes": "python"}, "option filetypes must be a list of filetypes or nil"),
    ({"ui": "web"}, "option ui must be 'auto', 'builtin' or 'extmarks'"),
    ({"debounce_ms": -1}, "option debounce_ms must be an integer >= 0"),
    ({"debounce_min_ms": 1.5}, "option debounce_min_ms must be an integer >= 0"),
    ({"debounce_max_ms": "1s"}, "option debounce_max_ms must be an integer >= 0"),
    ({"debounce_min_ms": 300, "debounce_max_ms": 100},
     "debounce_min_ms <= debounce_ms <= debounce_max_ms must hold, got 300, 100, 100"),
    ({"debounce_ms": 50, "debounce_min_ms": 100},
     "debounce_min_ms <= debounce_ms <= debounce_max_ms must hold, got 100, 50, 500"),
    ({"keymaps": {"accept_all": "<Tab>"}}, 'unknown keymap "accept_all"'),
    ({"keymaps": {"accept": ""}}, "keymap accept must be a key or false"),
]


def test_options_over_the_defaults(run_lua, tmp_path):
    got = run_lua(tmp_path, "return require('kvcomplete.config').resolve(DATA)",
                  {"keymaps": {"accept": False}, "filetypes": ["python"], "settings": {"maxTokens": 16}})
    assert got["keymaps"] == {"accept": False, "accept_word": "<C-Right>", "accept_line": "<C-Down>",
                              "next": "<M-]>", "prev": "<M-[>", "dismiss": "<C-]>"}
    assert got["filetypes"] == ["python"] and got["settings"] == {"maxTokens": 16}
    assert got["cmd"] == ["kvcomplete", "serve"] and got["ui"] == "auto"
    assert (got["debounce_ms"], got["debounce_min_ms"], got["debounce_max_ms"]) == (200, 50, 500)


def test_bad_options_are_refused_with_what_to_fix(run_lua, tmp_path):
    got = run_lua(tmp_path, """
      local errors = {}
      for _, opts in ipairs(DATA) do
        local ok, message = pcall(require('kvcomplete').setup, opts)
        table.insert(errors, ok and 'accepted' or message)
      end
      return errors
    """, [options for options, _ in BAD_OPTIONS])
    for message, (_, expected) in zip(got, BAD_OPTIONS):
        assert message.startswith("kvcomplete.setup: ") and expected in message


def test_minimal_config_sets_up_the_plugin(run_shipped_config, tmp_path):
    probe = ("lua local c = vim.lsp.config.kvcomplete; io.stdout:write(vim.json.encode({ cmd = c.cmd,"
             " init_options = c.init_options,"
             " enabled = vim.lsp.is_enabled('kvcomplete'), ui = require('kvcomplete').ui,"
             " tab = vim.fn.maparg('<Tab>', 'i', false, true).desc, stats = vim.fn.exists(':KvcompleteStats') }))")
    done = run_shipped_config(tmp_path, "minimal.lua", probe)
    got = json.loads(done.stdout)
    assert got["cmd"] == ["kvcomplete", "serve"] and got["init_options"] == {"suggestions": 3, "maxTokens": 48}
    assert got["enabled"] is True and got["ui"] == "builtin"
    assert got["tab"] == "kvcomplete: Accept the suggestion" and got["stats"] == 2
    assert '"kvcomplete" is not executable; set cmd = ' in done.stderr


def test_stats_lines_and_no_server_message(run_lua, tmp_path):
    got = run_lua(tmp_path, """
      local stats = require('kvcomplete.stats')
      local notes = {}
      vim.notify = function(message, level) table.insert(notes, { message, level }) end
      stats.show()
      return { lines = stats.lines({ requests = 2, accepts = 1, latencyMs = { p50 = 1.5, p95 = 4 } }), notes = notes }
    """)
    assert got["lines"] == ["accepts: 1", "latencyMs.p50: 1.5", "latencyMs.p95: 4", "requests: 2"]
    assert got["notes"] == [["kvcomplete: no server is running (it starts when a file of a configured filetype "
                             "opens)", 3]]


def test_stats_timings_line_with_and_without_measures(run_lua, tmp_path):
    got = run_lua(tmp_path, """
      local stats = require('kvcomplete.stats')
      local measured = { firstAnswerMs = { p50 = 120.4, p95 = 299.6 }, finalSuggestionMs = { p50 = 1250, p95 = 2600 } }
      local unmeasured = { firstAnswerMs = { p50 = vim.NIL, p95 = vim.NIL }, finalSuggestionMs = vim.NIL }
      return { stats.timings(measured), stats.timings(unmeasured), stats.timings({ requests = 0 }),
               stats.lines(unmeasured) }
    """)
    assert got[:3] == ["first ghost text p50 120 ms, p95 300 ms; final suggestion p50 1250 ms, p95 2600 ms",
                       "first ghost text p50 –, p95 –; final suggestion p50 –, p95 –",
                       "first ghost text p50 –, p95 –; final suggestion p50 –, p95 –"]
    assert got[3] == ["finalSuggestionMs: –", "firstAnswerMs.p50: –", "firstAnswerMs.p95: –"]
