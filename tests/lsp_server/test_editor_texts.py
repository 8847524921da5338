"""The server's document copies against a plain reference of LSP's rules, for every position encoding."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from kvcomplete.demo.lsp_client import units  # the client's code-unit count (Python's codecs), not pygls'
from kvcomplete.lsp_server.editor_texts import EditorText, PositionError, split_lines

ENCODINGS = ["utf-8", "utf-16", "utf-32"]
# Line breaks of every kind, characters Python (not LSP) treats as line breaks, astral and multi-byte ones.
ALPHABET = st.sampled_from(["a", "b", " ", "\n", "\r", "\r\n", "\x0c", "\u2028", "\x85", "é", "€", "😀", "𝔘"])
TEXTS = st.lists(ALPHABET, max_size=40).map("".join)


def position(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


def change(start: tuple[int, int], end: tuple[int, int], text: str) -> types.TextDocumentContentChangePartial:
    return types.TextDocumentContentChangePartial(range=types.Range(start=position(*start), end=position(*end)),
                                                  text=text)


@pytest.mark.parametrize("text, lines", [
    ("", [""]),
    ("a", ["a"]),
    ("a\n", ["a\n", ""]),
    ("a\r\nb\rc\nd", ["a\r\n", "b\r", "c\n", "d"]),
    ("\r\r\n\n", ["\r", "\r\n", "\n", ""]),
    ("form\x0cfeed\u2028line\x85sep", ["form\x0cfeed\u2028line\x85sep"]),
])
def test_split_lines_breaks_only_where_lsp_does(text, lines):
    assert split_lines(text) == lines


@pytest.mark.parametrize("encoding, character, offset", [
    ("utf-16", 3, 2),  # after the emoji: 1 + 2 code units
    ("utf-8", 5, 2),  # 1 + 4 bytes
    ("utf-32", 2, 2),
    ("utf-16", 2, 2),  # inside the surrogate pair: rounds up past the emoji
    ("utf-16", 99, 3),  # past the end of the line: its end, before the line break
])
def test_cursor_converts_columns_in_the_negotiated_encoding(encoding, character, offset):
    document = EditorText.from_text("file:///a.py", "a😀b\r\nnext")
    cursor = document.cursor(position(0, character), PositionCodec(encoding))
    assert cursor.offset == offset
    assert cursor.line_before == "a😀b"[:offset]
    assert cursor.position.character == sum(units(char, encoding) for char in cursor.line_before)


def test_cursor_past_the_last_line_is_refused():
    document = EditorText.from_text("file:///a.py", "one\ntwo")
    with pytest.raises(PositionError, match="outside file:///a.py"):
        document.cursor(position(2, 0), PositionCodec("utf-16"))


def test_edit_that_joins_cr_and_lf_makes_one_line_break():
    document = EditorText.from_text("file:///a.py", "a\rX\nb")
    edit = document.apply(change((1, 0), (1, 1), ""), PositionCodec("utf-16"))
    assert (edit.start, edit.end, edit.text) == (2, 3, "")
    assert document.lines == ["a\r\n", "b"]


def test_full_text_change_replaces_everything():
    document = EditorText.from_text("file:///a.py", "old\ntext")
    edit = document.apply(types.TextDocumentContentChangeWholeDocument(text="new"), PositionCodec("utf-16"))
    assert (edit.start, edit.end, edit.text) == (0, 8, "new")
    assert document.text == "new"


@st.composite
def edit_sessions(draw):
    encoding = draw(st.sampled_from(ENCODINGS))
    text = draw(TEXTS)
    edits = draw(st.lists(st.tuples(st.integers(0, 8), st.integers(0, 12), st.integers(0, 8),
                                    st.integers(0, 12), TEXTS), max_size=12))
    return encoding, text, edits


@settings(max_examples=300, deadline=None)
@given(edit_sessions())
def test_edits_keep_the_copy_equal_to_the_reference(lsp_offset, session):
    encoding, text, edits = session
    codec = PositionCodec(encoding)
    document = EditorText.from_text("file:///a.py", text)
    for start_line, start_char, end_line, end_char, inserted in edits:
        start = lsp_offset(text, start_line, start_char, encoding)
        end = lsp_offset(text, end_line, end_char, encoding)
        start, end = min(start, end), max(start, end)
        expected = text[:start] + inserted + text[end:]
        edit = document.apply(change((start_line, start_char), (end_line, end_char), inserted), codec)
        # The engine gets the same edit, in code points of the text before it.
        assert (edit.start, edit.end, edit.text) == (start, end, inserted)
        assert document.text == expected
        assert document.lines == split_lines(expected)
        text = expected
        for line in range(len(document.lines)):
            assert document.line_start(line) == lsp_offset(text, line, 0, encoding)
