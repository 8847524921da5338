"""kvcomplete/stats: the server's counts, the engine's, and latency percentiles."""

import pytest

from kvcomplete.lsp_server.stats import ENGINE_COUNTERS, ServerStats, percentile


@pytest.mark.parametrize("values, fraction, expected", [
    ([], 0.5, 0.0),
    ([7.0], 0.95, 7.0),
    ([4.0, 1.0, 3.0, 2.0], 0.5, 2.0),
    (list(map(float, range(1, 101))), 0.95, 95.0),
])
def test_percentile_is_nearest_rank(values, fraction, expected):
    assert percentile(values, fraction) == expected


def test_report_has_every_counter_even_without_an_engine():
    stats = ServerStats()
    stats.requests, stats.cancelled = 5, 2
    for latency in (10.0, 20.0, 30.0):
        stats.answered(latency)
    report = stats.report({})
    assert report["requests"] == 5 and report["cancelled"] == 2
    assert all(report[name] == 0 for name in ENGINE_COUNTERS)
    assert report["latencyMs"] == {"p50": 20.0, "p95": 30.0}
    assert stats.report({"pieUpdates": 4})["pieUpdates"] == 4
