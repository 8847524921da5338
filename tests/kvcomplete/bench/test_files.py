"""The files suite: its sources have the sizes it names, and its figures are read off the engine it drove."""

from __future__ import annotations

import pytest

from kvcomplete.bench.files import SIZES, line_start_near, measure, sources
from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine


def test_sources_have_the_named_sizes():
    texts = sources()
    assert texts["200 lines"].count("\n") == 200
    for name, size in SIZES.items():
        if size is not None:
            assert 0.98 * size <= len(texts[name].encode()) <= size


def test_line_start_near_is_the_first_code_character_of_a_line():
    text = "a = 1\n\n# note\n    b = 2\n"
    at = line_start_near(text, 0.2)
    assert text[at:].startswith("b = 2") and text[at - 1] == " "


@pytest.mark.slow
def test_measure_reports_what_the_engine_did(tiny_model_dir):
    engine = Engine(Settings(model=str(tiny_model_dir), device="cpu", context_tokens=256, max_tokens=2,
                             suggestions=1))
    text = sources()["150 KB"]
    row = measure(engine, text, typed=2)
    doc = engine.documents["file:///bench/file.py"]
    assert row["tokens"] == len(doc.mirror.tokens) and row["bytes"] == len(engine.text(doc.uri).encode())
    assert row["window_tokens"] == engine.window_policy.budget == 256
    assert row["kv_mb"] == round(engine.stats()["kvBytes"] / 2**20, 1)
    assert len(doc.session.tokens) <= 256


def test_window_cases_come_from_the_second_half_of_large_modules():
    from kvcomplete.bench.window import cases

    chosen = cases(files=2, per_file=3)
    assert len(chosen) == 6
    for text, cursor, truth in chosen:
        assert cursor > len(text) // 3 and truth and truth not in text[cursor - len(truth) - 1: cursor + 1]


def test_a_context_change_encodes_the_new_snippet_with_pie_and_everything_after_it_without(tiny_model_dir):
    from kvcomplete.bench.window import context_change
    from kvcomplete.completion.model.loading import load

    result = context_change(load(Settings(model=str(tiny_model_dir), device="cpu")), document_tokens=200,
                            snippet_tokens=16)
    assert 0 < result["pie_tokens_encoded"] <= 16
    assert result["reencode_tokens_encoded"] == result["pie_tokens_encoded"] + 200
