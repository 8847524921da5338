"""The context window as plain token indices: it follows edits, stays within its budget, re-places rarely."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kvcomplete.completion.cache.window import Window, WindowPolicy
from kvcomplete.completion.text.mirror import TokenEdit

POLICY = WindowPolicy(budget=200)


def every_tenth_starts_a_line(index: int) -> bool:
    return index % 10 == 0


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 300), st.integers(0, 300), st.data())
def test_an_edit_outside_a_window_keeps_its_text_and_one_inside_or_across_an_edge_joins_it(a, b, data):
    start, end = min(a, b), max(a, b)
    document = list(range(400))
    edit_start = data.draw(st.integers(0, 400))
    deleted = data.draw(st.integers(0, 400 - edit_start))
    inserted = tuple(range(1000, 1000 + data.draw(st.integers(0, 5))))
    window = Window(start, end)
    edited = document[:edit_start] + list(inserted) + document[edit_start + deleted:]
    moved = window.shifted(TokenEdit(edit_start, deleted, inserted))
    if edit_start + deleted < start or (edit_start + deleted == start and deleted > 0) or edit_start > end:
        assert edited[moved.start: moved.end] == document[start:end]  # outside: the same tokens
    else:  # inside, or across the start or the end: its tokens, the deleted ones gone, the inserted ones in

        def clip(index: int) -> int:
            return min(max(index, start), end)

        kept_before, kept_after = document[start:clip(edit_start)], document[clip(edit_start + deleted):end]
        assert edited[moved.start: moved.end] == kept_before + list(inserted) + kept_after


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 5000), st.integers(0, 5000), st.integers(0, 5000), st.booleans())
def test_a_request_window_holds_the_cursor_within_the_budget(length, cursor_a, cursor_b, with_after):
    cursors = [min(cursor_a, length), min(cursor_b, length)]
    window = None
    for cursor in cursors:
        window = POLICY.for_request(window, cursor, length, every_tenth_starts_a_line, with_after)
        assert window.start <= cursor <= window.end <= length
        assert len(window) <= POLICY.budget
        assert window.start == 0 or cursor - window.start >= POLICY.min_before or length - window.start < POLICY.min_before


def test_placement_puts_most_of_the_budget_before_the_cursor_at_a_line_start():
    window = POLICY.place(1000, 5000, every_tenth_starts_a_line)
    assert window.start % 10 == 0 and window.start >= 1000 - 150 and len(window) <= 200


def test_cursor_moves_inside_the_window_keep_it_and_leaving_it_re_places_it():
    window = POLICY.place(1000, 5000, every_tenth_starts_a_line)
    for cursor in (window.start + POLICY.min_before, window.end):
        assert POLICY.keeps(window, cursor)
    assert not POLICY.keeps(window, window.start + POLICY.min_before - 1)  # too little context before it
    assert not POLICY.keeps(window, window.start + POLICY.budget + 1)  # the part before the cursor is too long
    assert not POLICY.keeps(window, 10)
