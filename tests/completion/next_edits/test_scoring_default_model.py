"""With the real default model: after a parameter is renamed at its definition, its uses in that function are
proposed, ranked above the same name's uses in other functions (the model reads the edit in the cache)."""

from __future__ import annotations

import math

import pytest

from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine
from kvcomplete.completion.next_edits import proposals as next_edit_proposals
from kvcomplete.completion.text.mirror import TextChange

pytestmark = pytest.mark.default_model

URI = "file:///shapes.py"
SOURCE = '''import math


def area(radius):
    """The area of a circle."""
    return math.pi * radius * radius


def describe(shape, radius):
    size = area(radius)
    label = f"{shape} of radius {radius}"
    if radius > 10:
        label += " (large)"
    print(label, size)
    return size


def perimeter(radius):
    return 2 * math.pi * radius
'''


def test_the_renamed_functions_uses_outrank_the_same_name_elsewhere(monkeypatch):
    monkeypatch.setattr(next_edit_proposals, "BEST_GAP", math.inf)  # every candidate scored, to compare them
    engine = Engine(Settings(next_edits_threshold=-math.inf, max_next_edits=64))
    threshold = Settings().next_edits_threshold
    engine.open(URI, SOURCE, "python")
    at = SOURCE.index("shape, radius") + len("shape, ")
    engine.change(URI, [TextChange(at, at + len("radius"), "r")])
    text, proposals = engine.next_edits.request(URI, budget_ms=math.inf)
    body = range(text.index("def describe"), text.index("def perimeter"))
    inside = [p.score for p in proposals if p.start in body]
    outside = [p.score for p in proposals if p.start not in body]
    assert len(inside) == 3 and len(outside) == 4  # one per line: area's 2 lines, perimeter's 2
    assert min(inside) > max(outside)
    assert min(inside) > threshold
    assert all(text[p.start: p.end] == p.old and p.new == p.old.replace("radius", "r") for p in proposals)
    monkeypatch.undo()  # within BEST_GAP of the best: the renamed function's uses only
    assert {p.start for p in engine.next_edits.proposals(engine.next_edits._jobs[URI])} <= set(body)
