"""kvcomplete/stats: the server's counts, the engine's, and latency percentiles."""

import pytest

from kvcomplete.completion.stats import EngineStats
from kvcomplete.lsp_server.stats import ServerStats, percentile

# The engine counters that the docs (docs/lsp.md) and the editors' stats views name, written out here.
DOCUMENTED_COUNTERS = ("editsApplied", "pieUpdates", "fullEncodes", "tokensEncoded", "draftTokensProposed",
                       "draftTokensAccepted", "accepts", "superposedPasses", "partialAnswers", "continued",
                       "prefetches", "backgroundSteps", "windowPlacements", "refreshes", "evictions")


@pytest.mark.parametrize("values, fraction, expected", [
    ([], 0.5, 0.0),
    ([7.0], 0.95, 7.0),
    ([4.0, 1.0, 3.0, 2.0], 0.5, 2.0),
    (list(map(float, range(1, 101))), 0.95, 95.0),
])
def test_percentile_is_nearest_rank(values, fraction, expected):
    assert percentile(values, fraction) == expected


def test_report_has_every_engine_counter_even_without_an_engine():
    stats = ServerStats()
    stats.requests, stats.cancelled = 5, 2
    for latency in (10.0, 20.0, 30.0):
        stats.answered(latency)
    report = stats.report({})
    assert report["requests"] == 5 and report["cancelled"] == 2 and report["model"] is None
    assert {name: report[name] for name in DOCUMENTED_COUNTERS} == dict.fromkeys(DOCUMENTED_COUNTERS, 0)
    assert report["latencyMs"] == {"p50": 20.0, "p95": 30.0}


def test_without_an_engine_the_report_has_the_keys_of_the_engine_counters():
    """An editor sees the same counters before the model loads as after (zero until then)."""
    engine_report = EngineStats().report()
    counters = {name for name, value in engine_report.items() if isinstance(value, int)}
    assert counters >= set(DOCUMENTED_COUNTERS) - {"tokensEncoded"}
    assert counters <= set(ServerStats().report({}))


def test_the_engine_counts_and_timings_reach_the_report():
    engine = EngineStats()
    engine.count("pieUpdates")
    engine.count("pieUpdates", 3)
    engine.count("accepts")
    for milliseconds in (5.0, 1.0, 3.0):
        engine.time("decode", milliseconds)
    report = ServerStats().report({**engine.report(), "tokensEncoded": 17})
    assert (report["pieUpdates"], report["accepts"], report["fullEncodes"], report["tokensEncoded"]) == (4, 1, 0, 17)
    assert report["decodeMs"] == {"p50": 3.0, "p95": 5.0}
    assert report["firstAnswerMs"] == {"p50": None, "p95": None}


def test_an_unknown_counter_is_a_mistake():
    with pytest.raises(AssertionError):
        EngineStats().count("pieUpdate")
