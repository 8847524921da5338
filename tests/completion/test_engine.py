"""The engine's document handling, caches and bad input, on the tiny model."""

from __future__ import annotations

import random

import pytest

from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine, UnknownDocument
from kvcomplete.completion.text.mirror import TextChange

URI = "file:///work/example.py"
SOURCE = "def add(a, b):\n    return a + b\n\n\nprint(add(1, 2))\n"


@pytest.fixture(scope="module")
def engine(tiny_model_dir):
    return Engine(Settings(model=str(tiny_model_dir), device="cpu", max_tokens=6))


def test_edits_between_requests_are_one_update_and_cache_follows_the_text(engine):
    engine.open(URI, SOURCE)
    engine.complete(URI, len(SOURCE))
    rng = random.Random(3)
    text = SOURCE
    for _ in range(30):  # typing and backspacing around one place: one PIE update per request
        at = text.index("return") + 6
        change = TextChange(at, at, rng.choice("xyz ")) if rng.random() < 0.7 else TextChange(at, at + 1, "")
        text = text[: change.start] + change.text + text[change.end:]
        engine.change(URI, [change])
    before = engine.stats()["pieUpdates"]
    engine.complete(URI, len(text))
    assert engine.text(URI) == text
    assert engine.stats()["pieUpdates"] - before <= 2


def test_binary_and_huge_documents_are_tracked_but_not_completed(tiny_model_dir):
    engine = Engine(Settings(model=str(tiny_model_dir), device="cpu", max_file_bytes=100))
    engine.open("file:///bin.dat", "ab\x00cd")
    assert engine.complete("file:///bin.dat", 2).reason == "binary file"
    engine.change("file:///bin.dat", [TextChange(2, 3, "")])
    assert engine.text("file:///bin.dat") == "abcd"
    assert engine.complete("file:///bin.dat", 4).reason is None
    engine.change("file:///bin.dat", [TextChange(1, 1, "\ud800")])  # a lone surrogate from a client
    assert engine.complete("file:///bin.dat", 1).reason == "not valid Unicode text"
    assert engine.text("file:///bin.dat") == "a\ud800bcd"
    engine.open("file:///big.py", "x = 1\n" * 40)
    result = engine.complete("file:///big.py", 3)
    assert result.suggestions == [] and "maxFileBytes" in result.reason


def test_bad_requests_raise_clear_errors_and_keep_state(engine):
    engine.open(URI, SOURCE)
    with pytest.raises(UnknownDocument):
        engine.complete("file:///nope.py", 0)
    with pytest.raises(ValueError, match="outside"):
        engine.complete(URI, len(SOURCE) + 5)
    with pytest.raises(ValueError, match="outside"):
        engine.change(URI, [TextChange(0, len(SOURCE) + 1, "")])
    assert engine.text(URI) == SOURCE


def test_lru_eviction_keeps_the_budget_and_reencodes_on_demand(tiny_model_dir):
    engine = Engine(Settings(model=str(tiny_model_dir), device="cpu", kv_budget_mb=1, max_tokens=2))
    for index in range(4):  # at the end, so that each window holds the whole file
        engine.open(f"file:///f{index}.py", SOURCE * 30)
        engine.complete(f"file:///f{index}.py", len(SOURCE) * 30)
    assert engine.stats()["evictions"] >= 1
    assert engine.complete("file:///f0.py", 10).reason is None


def test_no_pie_setting_reencodes(tiny_model_dir):
    engine = Engine(Settings(model=str(tiny_model_dir), device="cpu", pie=False, max_tokens=2))
    engine.open(URI, SOURCE)
    engine.complete(URI, 5)
    engine.change(URI, [TextChange(0, 0, "# header\n")])
    engine.complete(URI, 5)
    assert engine.stats()["pieUpdates"] == 0 and engine.stats()["fullEncodes"] == 2


def test_typing_along_a_suggestion_needs_no_forward(tiny_model_dir):
    engine = Engine(Settings(model=str(tiny_model_dir), device="cpu", max_tokens=8))
    engine.open(URI, SOURCE)
    first = engine.complete(URI, len(SOURCE)).suggestions
    assert first and len(first[0].text) >= 2
    typed = first[0].text[:2]
    engine.change(URI, [TextChange(len(SOURCE), len(SOURCE), typed)])
    forwards = engine.stats()["forwards"]
    again = engine.complete(URI, len(SOURCE) + 2)
    assert again.suggestions[0].text == first[0].text[2:]
    assert "type_along" in again.timings_ms and engine.stats()["forwards"] == forwards
    engine.change(URI, [TextChange(len(SOURCE) + 2, len(SOURCE) + 2, "\u00a7")])  # leaves the suggestions
    engine.complete(URI, len(SOURCE) + 3)
    assert engine.stats()["forwards"] > forwards
