"""`kvcomplete bench all --quick` in small: every suite but latency on a tiny model, outputs written.

The model has one layer, so PIE's cache equals a fresh encode's (layer 0 depends only on token and
position): its predictions must equal the full re-encode's on every sample.
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import time
from pathlib import Path

import pytest

from kvcomplete import bench
from kvcomplete.bench import layouts
from kvcomplete.bench.scale import Scale
from kvcomplete.cli import build_parser, main
from kvcomplete.completion.config import Settings
from kvcomplete.completion.model.loading import load
from kvcomplete.completion.model.spec import head_dim, num_kv_heads
from kvcomplete.completion.text.vocab import Vocabulary
from kvcomplete.kernels import bench as kernels_bench

SMOKE = Scale(edit_modules=2, edit_context_tokens=160, edit_max_tokens=6, update_sizes=(128,),
              speculation_cases=1, speculation_tokens=256, memory_files=20, memory_tokens=64, memory_fit=8,
              latency_quick=True)
HEADER = {"name", "model", "device", "dtype", "machine", "date", "command", "quick", "note", "suites"}


@pytest.fixture(scope="module")  # three suites on a tiny model: the tests using it are marked slow
def report(save_tiny_model, tmp_path_factory, tokenizer):
    folder = save_tiny_model("llama", tmp_path_factory.mktemp("one-layer"), tokenizer, num_hidden_layers=1)
    # float32: a one-layer model's caches in bf16 are so small that 20 of them fit the memory suite's
    # smallest budget (1 MB) and nothing would be evicted
    settings = Settings(model=str(folder), device="cpu", dtype="float32", weights="fp32")
    loaded = load(settings)
    names = ["edits", "speculation", "memory"]
    result = {"name": "all", **bench.header(loaded, "test", quick=True, note="smoke")}
    loads = iter(range(100))  # distinct load averages, to check which reading lands where
    with pytest.MonkeyPatch.context() as patch:  # the suites' 12 engines share one (read-only) vocabulary
        patch.setattr("kvcomplete.completion.engine.Vocabulary", functools.cache(Vocabulary))
        patch.setattr(bench, "load_average", lambda: next(loads))
        rss_before = _peak_rss_mb()
        started = time.perf_counter()
        result["suites"] = bench.run_suites(settings, loaded, names, SMOKE)
        elapsed = time.perf_counter() - started
    out = tmp_path_factory.mktemp("bench")
    measured = {"loaded": loaded, "elapsed": elapsed, "rss_mb": (rss_before, _peak_rss_mb())}
    return result, out, bench.write(result, out), measured


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.slow
def test_outputs_are_written_with_their_header(report):
    result, out, written, measured = report
    assert sorted(path.name for path in written) == sorted(
        ["all.json", "all.md", "edits.png", "speculation.png", "memory.png"])
    assert json.loads((out / "all.json").read_text()) == json.loads(json.dumps(result))
    assert HEADER <= set(result) and {"cpu", "python", "torch"} <= set(result["machine"])
    for name in ("edits.png", "speculation.png", "memory.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = (out / "all.md").read_text()
    assert "`test`" in text and text.count("![") == 3 and "| task | mode |" in text
    suites = result["suites"]
    assert all("failed" not in suite for suite in suites.values())
    # each suite's load average is read just before and just after it, in order
    assert [suite["load_average"] for suite in suites.values()] == [[0, 1], [2, 3], [4, 5]]
    # the suites' wall times add up to the time around them (each rounded to 0.1 s)
    assert sum(suite["seconds"] for suite in suites.values()) == pytest.approx(measured["elapsed"], abs=0.2)


@pytest.mark.slow
def test_edits_pie_equals_full_reencode_on_a_one_layer_model(report):
    edits = report[0]["suites"]["edits"]
    samples = edits["samples"]
    assert len(samples) == 3 * SMOKE.edit_modules
    assert all(sample["pie_prediction"] == sample["full_prediction"] for sample in samples)
    assert {(row["task"], row["mode"]) for row in edits["tasks"]} == {
        (task, mode) for task in ("insertion", "deletion", "multi") for mode in ("pie", "full", "naive")}
    for row in edits["tasks"]:
        assert row["samples"] == SMOKE.edit_modules
        assert 0 <= row["exact_match"] <= row["edit_similarity"] <= 1
        assert row["update_ms"] > 0
        if row["mode"] != "naive":
            assert row["same_as_full"] == 1.0
    (update,) = edits["update_time"]
    assert update["tokens"] >= 120 and update["pie_ms"] > 0 and update["full_encode_ms"] > 0


@pytest.mark.slow
def test_speculation_keeps_suggestion_one_identical_to_plain(report):
    rows = report[0]["suites"]["speculation"]["rows"]
    assert [(row["cases"], row["k"], row["mode"]) for row in rows] == [
        (cases, k, mode) for cases in ("next line", "after an edit") for k in (1, 4)
        for mode in ("plain", "copyspec", "superposed", "all")]
    assert all(row["first_identical_to_plain"] == row["requests"] == 1 for row in rows)  # fp32: exact


@pytest.mark.slow
def test_memory_evicts_least_recently_used_and_reencodes_exactly(report):
    memory = report[0]["suites"]["memory"]
    trace = memory["eviction"]
    assert [row["opened"] for row in trace] == list(range(1, 21))
    assert trace[-1]["evictions"] > 0 and trace[-1]["resident"] < 20
    assert all(row["kv_mb"] <= memory["budget_mb"] for row in trace)
    assert trace[-1]["resident_documents"] == [
        name for row in trace for name in row["resident_documents"][-1:]][-trace[-1]["resident"]:]
    assert len(memory["reopen_checks"]) == 2
    for check in memory["reopen_checks"]:
        assert check["re_encoded"] and check["same_as_fresh_engine"] and check["kv_max_abs_difference"] == 0
    assert memory["reopen_checks"][0]["same_as_before_eviction"]
    config, itemsize = report[3]["loaded"].config, report[3]["loaded"].dtype.itemsize
    one_tensor = config.num_hidden_layers * num_kv_heads(config) * head_dim(config) * itemsize
    kv, with_original, allocated = (row["bytes_per_token"] for row in memory["kv_per_1k_tokens"])
    assert (kv, with_original) == (2 * one_tensor, 3 * one_tensor) and allocated >= with_original
    rss_before, rss_after = report[3]["rss_mb"]  # the process's peak RSS only grows
    assert rss_before - 0.1 <= memory["peak"]["peak_rss_mb"] <= rss_after + 0.1


def test_cli_offers_every_suite_and_runs_the_one_asked(monkeypatch):
    bench_parser = next(action for action in build_parser()._actions
                        if isinstance(action, argparse._SubParsersAction)).choices["bench"]
    (choices,) = (action.choices for action in bench_parser._actions if action.dest == "suite")
    engine_suites = [*bench.SUITES, "all"]
    assert set(engine_suites) | {"layouts", "kernels"} <= set(choices)
    calls = []
    monkeypatch.setattr(bench, "main", lambda settings, suite, **options: calls.append((suite, options)) or 0)
    monkeypatch.setattr(layouts, "main", lambda settings, **options: calls.append(("layouts", options)) or 0)
    monkeypatch.setattr(kernels_bench, "main", lambda argv: calls.append(("kernels", argv)) or 0)
    for suite in [*engine_suites, "layouts", "kernels"]:
        assert main(["bench", suite, "--quick", "--out", "x", "--note", "shared CPU"]) == 0
    engine_options = {"quick": True, "as_json": False, "out": Path("x"), "note": "shared CPU"}
    assert calls == [(suite, engine_options) for suite in engine_suites] + [
        ("layouts", {"quick": True, "as_json": False}), ("kernels", [])]


def test_latency_results_are_drawn_and_tabled_side_by_side(tmp_path):
    """The replay itself is demo/latency.py's (tested there); these are the figures its ``run`` promises."""
    def run(budget, first_p50, cancelled, refreshes):
        return {"latency_budget_ms": budget, "keystroke_to_result_p50_ms": 1700.0, "keystroke_to_result_p95_ms": 2700.0,
                "keystroke_to_first_ghost_p50_ms": first_p50, "keystroke_to_first_ghost_p95_ms": 2700.0,
                "keystroke_to_final_p50_ms": None, "after_tab_first_ghost_p50_ms": 80.0, "requests": 46,
                "answered": 7, "cancelled": cancelled, "refreshes": refreshes, "pauses_with_ghost_share": 0.5,
                "server_stats": {"requests": 46}}

    result = {"trace": "example.py: 7 lines typed", "runs": [run(0, 1720.0, 39, 0), run(300, 290.0, 20, 12)]}
    bench.plots.write("latency", result, tmp_path / "latency.png")
    assert (tmp_path / "latency.png").read_bytes()[:4] == b"\x89PNG"
    text = bench.latency.markdown(result)
    assert "| measure | latencyBudgetMs 0 | latencyBudgetMs 300 |" in text
    assert "| keystroke_to_first_ghost_p50_ms | 1720 | 290 |" in text and "| cancelled | 39 | 20 |" in text
    assert "| refreshes | 0 | 12 |" in text and "server_stats" not in text