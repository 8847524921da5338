"""Script actions: keystrokes, anchors, and seeded human pacing."""

from __future__ import annotations

import pytest

from kvcomplete.demo.actions import END, Pacing, anchor_offset, line_span, next_key


def test_a_line_break_carries_the_indentation_the_editor_adds():
    assert next_key("\n        return x") == "\n        "
    assert next_key("    pass") == "    "
    assert next_key("\nx") == "\n"
    assert next_key("abc") == "a"
    assert next_key("\bx") == "\b"


def test_anchors_name_places_by_the_text_before_them():
    text = "a = 1\nb = 2\n"
    assert anchor_offset(text, "b =") == 9
    assert anchor_offset(text, END) == len(text)
    with pytest.raises(ValueError, match="'c = 3'"):
        anchor_offset(text, "c = 3")


def test_line_span_covers_the_line_and_its_break():
    text = "one\ntwo\nthree"
    assert line_span(text, "wo") == (4, 8)
    assert line_span(text, "three") == (8, len(text))


def test_pacing_is_seeded_scaled_and_slower_at_line_ends():
    keys = list("def f(x):") + ["\n    "] + list("return x")
    first, second, fast = Pacing(), Pacing(), Pacing(scale=0.5)
    delays = [first.after(key) for key in keys]
    assert delays == [second.after(key) for key in keys]
    assert [fast.after(key) for key in keys] == pytest.approx([delay / 2 for delay in delays])
    assert delays[keys.index("\n    ")] >= Pacing().after_line[0] > max(Pacing().within_word)
    with pytest.raises(ValueError, match="scale"):
        Pacing(scale=0)
