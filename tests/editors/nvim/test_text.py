"""The split rules of partial accepts (``lua/kvcomplete/text.lua``), run in Neovim's LuaJIT and compared with the
Python statement of the same rules that the end-to-end tests use."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.e2e  # nvim -l

PARTS = """
  local text = require('kvcomplete.text')
  local out = {}
  for _, s in ipairs(DATA) do
    table.insert(out, { word = text.part(s, 'word'), line = text.part(s, 'line'), all = text.part(s, 'all') })
  end
  return out
"""
# Code-like characters, whitespace of every kind, and letters of 2, 3 and 4 UTF-8 bytes.
ALPHABET = st.sampled_from(list("ab_Z09 (),.:=+-\"'#\t\n\r\v\f") + ["é", "€", "😀", "ß"])


def test_examples(run_lua, tmp_path):
    texts = [" return a + b", "(a, b):\n    x", "café au lait", "\n    return x", "foo\nbar", "   ", "😀😀 x"]
    got = run_lua(tmp_path, PARTS, texts)
    assert [p["word"] for p in got] == [" return", "(a", "café", "\n    return", "foo", "   ", "😀😀"]
    assert [p["line"] for p in got] == [" return a + b", "(a, b):", "café au lait", "\n    return x", "foo",
                                        "   ", "😀😀 x"]
    assert [p["all"] for p in got] == texts


@settings(max_examples=5, deadline=None)
@given(st.lists(st.text(ALPHABET, min_size=1, max_size=12), min_size=50, max_size=50))
def test_matches_the_python_rules(run_lua, accept_part, tmp_path_factory, texts):
    got = run_lua(tmp_path_factory.mktemp("parts"), PARTS, texts)
    for text, part in zip(texts, got):
        assert (part["word"], part["line"]) == (accept_part(text, "word"), accept_part(text, "line")), text
        assert part["word"] and text.startswith(part["word"])  # never empty, never a split character


def test_remainder(run_lua, tmp_path):
    got = run_lua(tmp_path, """
      local text = require('kvcomplete.text')
      return { text.remainder('return a', 'ret'), text.remainder('return a', ''), text.remainder('ab', 'ab'),
               text.remainder('return a', 'x') == nil, text.remainder('a', 'ab') == nil }
    """)
    assert got == ["urn a", "return a", "", True, True]


def test_unknown_kind_is_an_error(run_lua, tmp_path):
    got = run_lua(tmp_path, "return { pcall(require('kvcomplete.text').part, 'x', 'sentence') }")
    assert got[0] is False and "unknown accept kind \"sentence\"" in got[1]
