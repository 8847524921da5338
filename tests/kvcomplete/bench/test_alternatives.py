"""The alternatives suite in small, on a tiny model: its counts, and no whitespace duplicates in what it measures."""

from __future__ import annotations

import pytest

from kvcomplete.bench import alternatives, plots
from kvcomplete.bench.scale import Scale
from kvcomplete.completion.config import Settings
from kvcomplete.completion.model.loading import load
from kvcomplete.completion.open_documents import Suggestion

SMOKE = Scale(edit_modules=1, edit_context_tokens=160, edit_max_tokens=6, update_sizes=(128,),
              speculation_cases=1, speculation_tokens=256, memory_files=20, memory_tokens=64, memory_fit=8,
              latency_quick=True)


def test_duplicates_and_best_of_k_count_what_a_user_sees():
    items = [Suggestion("return a", -1.0), Suggestion("  return  a", -2.0), Suggestion("x = 1\ny", -3.0)]
    assert alternatives.duplicates(items) == 1
    assert alternatives.best_of(items, "x = 1", 1) < 1.0 == alternatives.best_of(items, "x = 1", 3)


@pytest.fixture(scope="module")
def result(tiny_model_dir):
    settings = Settings(model=str(tiny_model_dir), device="cpu")
    return alternatives.run(settings, load(settings), SMOKE)


def test_rows_per_k_and_rankings_of_the_same_requests(result, tmp_path):
    rows = {row["k"]: row for row in result["rows"]}
    assert sorted(rows) == [1, 2, 4] and len(result["samples"]) == rows[4]["requests"] > 0
    assert all(row["duplicates_up_to_whitespace"] == 0 == row["alternatives_overlapping_1"] for row in rows.values())
    assert rows[1]["items_per_request"] <= 1 and rows[4]["items_per_request"] <= 4
    assert all(row["best_of_k_edit_similarity"] >= row["top1_edit_similarity"] for row in rows.values())
    assert [row["ranking"] for row in result["rankings"]] == ["total", "mean", "split"]
    assert "| k |" in alternatives.markdown(result)
    plots.write("alternatives", result, tmp_path / "alternatives.png")
    assert (tmp_path / "alternatives.png").read_bytes()[:4] == b"\x89PNG"
