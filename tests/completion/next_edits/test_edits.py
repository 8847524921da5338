"""The last-edit record: one place's changes coalesce into one record over whole lines; another place starts anew."""

from __future__ import annotations

import random

from kvcomplete.completion.next_edits.edits import LastEdit, record_change
from kvcomplete.completion.text.mirror import TextChange

SOURCE = "def area(radius):\n    return 3.14 * radius * radius\n\n\nprint(area(2))\n"


def apply_all(text: str, changes: list[TextChange], edit: LastEdit | None = None) -> tuple[str, LastEdit]:
    for change in changes:
        edit = record_change(edit, text, change)
        text = text[: change.start] + change.text + text[change.end:]
    return text, edit


def test_typing_at_one_place_is_one_edit_of_its_line():
    at = SOURCE.index("3.14") + 4
    text, edit = apply_all(SOURCE, [TextChange(at + i, at + i, char) for i, char in enumerate("159")])
    assert edit.old == "    return 3.14 * radius * radius"
    assert edit.new(text) == "    return 3.14159 * radius * radius"


def test_deleting_then_typing_is_one_edit():
    start = SOURCE.index("radius")
    changes = [TextChange(start + 5 - i, start + 6 - i, "") for i in range(6)] + [TextChange(start, start, "r")]
    text, edit = apply_all(SOURCE, changes)
    assert (edit.old, edit.new(text)) == ("def area(radius):", "def area(r):")


def test_a_change_on_another_line_starts_a_new_record():
    first = SOURCE.index("radius")
    text, edit = apply_all(SOURCE, [TextChange(first, first + 6, "r")])
    later = text.index("print")
    text, edit = apply_all(text, [TextChange(later, later + 5, "show")], edit)
    assert (edit.old, edit.new(text)) == ("print(area(2))", "show(area(2))")


def test_a_line_break_typed_inside_the_edit_keeps_one_record_over_both_lines():
    at = SOURCE.index(" * radius * radius")
    text, edit = apply_all(SOURCE, [TextChange(at, at, " \\\n       "), TextChange(at + 10, at + 10, "(")])
    assert edit.old == "    return 3.14 * radius * radius"
    assert edit.new(text) == text[edit.start: edit.end] and edit.new(text).count("\n") == 1


def test_the_record_always_describes_the_text_before_it_began():
    """Random typing and deleting near one place: the text with the record's old lines put back is the text
    before the record's first change."""
    rng = random.Random(7)
    text, edit, began = SOURCE, None, SOURCE
    for _ in range(300):
        if edit is not None and rng.random() < 0.8:  # near the last edit: inside its lines
            start = rng.randint(edit.start, edit.end)
            end = rng.randint(start, min(edit.end, start + 3))
        else:
            start = rng.randint(0, len(text))
            end = min(len(text), start + rng.randint(0, 3))
        previous, text_before = edit, text
        text, edit = apply_all(text, [TextChange(start, end, rng.choice(["", "x", "ab", "\n"]))], edit)
        if previous is None or (edit.start, edit.old) != (previous.start, previous.old):
            began = text_before  # a new record began with this change
        assert text[: edit.start] + edit.old + text[edit.end:] == began
