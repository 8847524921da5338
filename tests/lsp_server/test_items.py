"""Suggestions as LSP items: distinct, at most k, inserted at the cursor or replacing the word before it."""

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from kvcomplete.completion.engine import Completion, Suggestion
from kvcomplete.lsp_server.editor_texts import Cursor
from kvcomplete.lsp_server.items import completion_list, inline_items

COMPLETION = Completion([Suggestion("(x)", -1.0), Suggestion("", -2.0), Suggestion("(x)", -3.0),
                         Suggestion("_all()\nreturn", -4.0), Suggestion("s", -5.0)])
# The cursor after "😀 = get" on line 3: 7 code points, 8 UTF-16 units.
CURSOR = Cursor(offset=40, position=types.Position(line=3, character=8), line_before="😀 = get")


def test_inline_items_are_distinct_nonempty_at_most_k_and_inserted_at_the_cursor():
    items = inline_items(COMPLETION, 2, CURSOR)
    assert [item.insert_text for item in items] == ["(x)", "_all()\nreturn"]
    assert all(item.range == types.Range(start=CURSOR.position, end=CURSOR.position) for item in items)


def test_completion_items_replace_the_word_before_the_cursor_with_word_and_suggestion():
    result = completion_list(COMPLETION, 3, CURSOR, PositionCodec("utf-16"))
    assert result.is_incomplete
    assert [item.text_edit.new_text for item in result.items] == ["get(x)", "get_all()\nreturn", "gets"]
    word_start = types.Position(line=3, character=5)  # after "😀 = " in UTF-16 units
    assert all(item.text_edit.range == types.Range(start=word_start, end=CURSOR.position) for item in result.items)
    assert [item.label for item in result.items] == ["get(x)", "get_all()", "gets"]
    assert [item.sort_text for item in result.items] == sorted(item.sort_text for item in result.items)


def test_items_equal_or_prefixed_up_to_whitespace_are_shown_once():
    completion = Completion([Suggestion("return a", -1.0), Suggestion("    return a", -2.0),
                             Suggestion("return  a + b", -3.0), Suggestion("pass", -4.0)])
    assert [item.insert_text for item in inline_items(completion, 4, CURSOR)] == ["return a", "pass"]
