"""``demo.latency.run``, the latency suite's entry point, on the tiny random model."""

from __future__ import annotations

import pytest

from completion.config import Settings
from demo import latency

pytestmark = pytest.mark.e2e


def test_latency_run_reports_consistent_counts(tiny_model_dir):
    report = latency.run(Settings(model=str(tiny_model_dir), max_tokens=4, log_level="warning"), quick=True, pace=0.2)

    assert {"trace", "keystroke_to_result_p50_ms", "keystroke_to_result_p95_ms", "request_to_result_p50_ms",
            "request_to_result_p95_ms", "requests", "answered", "cancelled", "stale", "type_along_share",
            "server_stats"} <= set(report)
    assert "geometry.py" in report["trace"] and report["quick"] is True
    for kind in ("keystroke_to_result", "request_to_result"):
        assert 0 < report[f"{kind}_p50_ms"] <= report[f"{kind}_p95_ms"]
    # The debounce is part of what the user waits for.
    assert report["keystroke_to_result_p50_ms"] >= report["debounce_ms"] + report["request_to_result_p50_ms"] - 1
    assert report["answered"] >= 7  # the user stops at the end of each of the 7 lines
    assert report["answered"] + report["stale"] + report["cancelled"] + report["failed"] == report["requests"]
    assert report["opening_requests"] >= 1 and report["first_answer_ms"] > 0  # the full encode, apart
    stats = report["server_stats"]  # the whole session: the opening and the typing
    assert stats["requests"] == report["requests"] + report["opening_requests"]
    assert stats["cancelled"] >= report["cancelled"]
    assert 0 <= report["type_along_share"] <= 1
