"""``demo.latency.run``, the latency suite's entry point, on the tiny random model: budget off and on."""

from __future__ import annotations

import pytest

from kvcomplete.completion.config import Settings
from kvcomplete.demo import latency

pytestmark = pytest.mark.e2e


def test_latency_run_reports_both_budgets_with_consistent_counts(tiny_model_dir):
    # A 1 ms budget: the first answers are cut after one token, the rest grows in the background.
    settings = Settings(model=str(tiny_model_dir), max_tokens=8, log_level="warning", latency_budget_ms=1)
    report = latency.run(settings, quick=True, pace=0.2)

    assert "geometry.py" in report["trace"] and report["quick"] is True
    off, on = report["runs"]
    assert (off["latency_budget_ms"], on["latency_budget_ms"]) == (0, 1)
    for run in (off, on):
        for kind in ("keystroke_to_result", "request_to_result", "keystroke_to_first_ghost"):
            assert 0 < run[f"{kind}_p50_ms"] <= run[f"{kind}_p95_ms"]
        # The debounce is part of what the user waits for.
        assert run["keystroke_to_result_p50_ms"] >= run["debounce_ms"] + run["request_to_result_p50_ms"] - 1
        assert run["answered"] >= 1
        assert run["answered"] + run["stale"] + run["cancelled"] + run["failed"] == run["requests"]
        assert run["opening_requests"] >= 1 and run["first_answer_ms"] > 0  # the full encode, apart
        stats = run["server_stats"]  # the whole session: the opening and the typing
        assert stats["requests"] == run["requests"] + run["opening_requests"]
        assert stats["cancelled"] >= run["cancelled"]
        assert 0 <= run["pauses_with_ghost"] <= run["pauses"] and 0 <= run["type_along_share"] <= 1
        assert run["refreshes"] <= run["notifications"] - run["stale_notifications"]
    # Without a budget every answer is finished (notifications come only from prefetches after a Tab): every
    # input with ghost text has its own answers as the reference.
    assert off["server_partialAnswers"] == 0
    assert off["final_inputs"] == off["keystroke_to_first_ghost_n"] and 1 <= off["final_reached"]
    # With it the server answered partially and said when the suggestions grew.
    assert on["server_partialAnswers"] >= 1 and on["notifications"] >= 1
    assert on["final_reached"] <= on["final_inputs"]
