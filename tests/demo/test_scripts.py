"""The scripts fit the example file: a dry run of their edits, without a server."""

from __future__ import annotations

import pytest

from kvcomplete.demo.actions import DeleteLine, MoveTo, Type, anchor_offset, line_span, next_key
from kvcomplete.demo.scripts import DEMO, EXAMPLE, Trace, latency_trace


def dry_run(text: str, steps) -> str:
    """The text after the scripted keys, moves and deletions (no suggestion is ever accepted)."""
    cursor = len(text)
    for step in steps:
        for action in step.actions:
            if isinstance(action, MoveTo):
                cursor = anchor_offset(text, action.anchor)
            elif isinstance(action, DeleteLine):
                start, end = line_span(text, action.anchor)
                text, cursor = text[:start] + text[end:], start
            elif isinstance(action, Type):
                rest = action.text
                while rest:
                    key = next_key(rest)
                    if key == "\b":
                        text, cursor = text[: cursor - 1] + text[cursor:], cursor - 1
                    else:
                        text, cursor = text[:cursor] + key + text[cursor:], cursor + len(key)
                    rest = rest[len(key):]
    return text


@pytest.mark.parametrize("quick", [True, False])
def test_a_latency_trace_types_back_the_lines_it_removed(quick):
    trace = latency_trace(quick)
    assert trace.opened_text() != EXAMPLE.read_text()
    assert dry_run(trace.opened_text(), trace.steps()) == EXAMPLE.read_text()


def test_a_trace_keeps_a_line_before_the_typed_ones():
    with pytest.raises(ValueError, match="start 0"):
        Trace(EXAMPLE, start=0, count=3)


def test_the_demo_edits_the_example_as_its_captions_say():
    original = EXAMPLE.read_text()
    edited = dry_run(original, DEMO)
    assert "        return Vector(self.x - other.x, self.y - other.y)\n" in edited
    assert 'print("bounding box of"' in original and 'print("bounding box of"' not in edited
    assert edited.index("from typing import Iterable") < edited.index("class Vector")
    assert edited.endswith("\n\ndef centroid(points: Iterable[Vector]) -> Vector:\n    ")
