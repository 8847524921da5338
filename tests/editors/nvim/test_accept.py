"""Accepting in a real buffer, without a server (``lua/kvcomplete/accept.lua``): what is left of a suggestion
after typing, where a partial accept inserts, where the cursor ends, and the didAccept notification."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e  # nvim -l

# A buffer with `lines` and the cursor at `cursor` (1-based row, byte column, as nvim_win_get_cursor), a client
# that records what it is sent, and `check(...)` run in that state.
SCENE = """
  local accept = require('kvcomplete.accept')
  local B = vim.api.nvim_get_current_buf()
  local sent = {}
  local function client(name)
    return { name = name, notify = function(_, method, params) table.insert(sent, { method, params }) end }
  end
  vim.o.virtualedit = 'onemore' -- the cursor may be after the last character, as in insert mode
  vim.api.nvim_buf_set_lines(0, 0, -1, true, DATA.lines)
  vim.api.nvim_win_set_cursor(0, DATA.cursor)
  local function state()
    return { lines = vim.api.nvim_buf_get_lines(0, 0, -1, true), cursor = vim.api.nvim_win_get_cursor(0),
             sent = sent }
  end
"""
ITEM = {"insertText": "a + b\n    return c"}


def test_line_by_line_through_a_multiline_suggestion(run_lua, tmp_path):
    got = run_lua(tmp_path, SCENE + """
      local steps = {}
      for _ = 1, 2 do
        local rest = accept.remaining(B, { 1, 11 }, DATA.item.insertText)
        accept.insert(B, client('kvcomplete'), DATA.item, rest, 'line')
        table.insert(steps, state())
      end
      return steps
    """, {"lines": ["def f():", "    return "], "cursor": [2, 11], "item": ITEM})
    first, second = got
    assert first["lines"] == ["def f():", "    return a + b"] and first["cursor"] == [2, 16]
    assert second["lines"] == ["def f():", "    return a + b", "    return c"] and second["cursor"] == [3, 12]
    uri = second["sent"][0][1]["uri"]
    assert [message for message in second["sent"]] == [
        ["kvcomplete/didAccept", {"uri": uri, "item": ITEM, "acceptedText": "a + b"}],
        ["kvcomplete/didAccept", {"uri": uri, "item": ITEM, "acceptedText": "\n    return c"}],
    ]


def test_typed_text_is_not_inserted_twice(run_lua, tmp_path):
    got = run_lua(tmp_path, SCENE + """
      local rest = accept.remaining(B, { 0, 2 }, 'turn value') -- asked after "re", then "tu" typed
      accept.insert(B, client('kvcomplete'), {}, rest, 'word')
      return state()
    """, {"lines": ["retu"], "cursor": [1, 4]})
    assert got["lines"] == ["return"] and got["cursor"] == [1, 6]
    assert got["sent"][0][1]["acceptedText"] == "rn"


def test_remaining_is_nil_when_the_typed_text_differs_or_the_cursor_is_before(run_lua, tmp_path):
    got = run_lua(tmp_path, SCENE + """
      return { accept.remaining(B, { 0, 2 }, 'cd') == nil, accept.remaining(B, { 0, 6 }, 'cd') == nil,
               accept.remaining(B, { 0, 9 }, 'cd') == nil, accept.remaining(B, { 0, 2 }, 'xyz') }
    """, {"lines": ["abxy"], "cursor": [1, 4]})
    assert got == [True, True, True, "z"]


def test_other_servers_items_are_inserted_but_not_reported(run_lua, tmp_path):
    got = run_lua(tmp_path, SCENE + """
      accept.insert(B, client('copilot'), {}, 'x = 1', 'all')
      return state()
    """, {"lines": [""], "cursor": [1, 0]})
    assert got["lines"] == ["x = 1"] and not got["sent"]
