"""The open documents: the cursor and the window follow the editor's changes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kvcomplete.completion.open_documents import _cursor_after
from kvcomplete.completion.text.mirror import TextChange


@given(st.text(alphabet="ab\n", max_size=20), st.integers(0, 20), st.integers(0, 20), st.integers(0, 5),
       st.text(alphabet="xy", max_size=4))
def test_the_cursor_stays_on_the_same_text(text, cursor, start, length, inserted):
    cursor, start = min(cursor, len(text)), min(start, len(text))
    end = min(len(text), start + length)
    moved = _cursor_after(cursor, TextChange(start, end, inserted))
    edited = text[:start] + inserted + text[end:]
    if end <= cursor:  # the change is before the cursor (or is typing at it): the text after it is the same
        assert edited[moved:] == text[cursor:]
    elif start > cursor:  # after it: the text before it is the same
        assert moved == cursor
    else:  # the cursor was inside the replaced text: it ends up after the insertion
        assert moved == start + len(inserted)
