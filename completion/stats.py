"""The engine's counters and per-request timings, in one place (``kvcomplete/stats`` reports them)."""

from __future__ import annotations

import math
from collections import Counter, deque

COUNTERS = ("editsApplied", "pieUpdates", "fullEncodes", "draftTokensProposed", "draftTokensAccepted", "accepts",
            "evictions", "refreshes", "forwards", "tokensGenerated", "windowPlacements", "backgroundSteps",
            "partialAnswers", "continued", "prefetches", "superposedPasses", "nextEditsRequests", "nextEditsProposed",
            "nextEditsAccepted", "nextEditsDismissed")
# Every counter Engine.stats reports: EngineStats's, and the tokens the model runner encoded (it counts them itself).
ENGINE_COUNTERS = (*COUNTERS, "tokensEncoded")
# ms per request: updating the cache, decoding until the answer, request to answer (type-along included),
# and request to the finished suggestions (later than the answer when it was cut at the latency budget).
# Next edits: from an edit to its first proposals announced, and a kvcomplete/nextEdits request's engine time.
TIMINGS = ("cacheUpdate", "decode", "firstAnswer", "finalSuggestion", "nextEditsReady", "nextEditsRequest")
KEPT_TIMINGS = 500


class EngineStats:
    def __init__(self) -> None:
        self.counters: Counter[str] = Counter({name: 0 for name in COUNTERS})
        self.timings: dict[str, deque[float]] = {name: deque(maxlen=KEPT_TIMINGS) for name in TIMINGS}

    def count(self, name: str, n: int = 1) -> None:
        assert name in COUNTERS, name
        self.counters[name] += n

    def time(self, name: str, milliseconds: float) -> None:
        self.timings[name].append(milliseconds)

    def report(self) -> dict:
        """Counters, and p50 / p95 of each timing over the last requests (``{name}Ms``)."""
        return {**self.counters, **{f"{name}Ms": percentiles(values) for name, values in self.timings.items()}}


def percentile(values, fraction: float) -> float:
    """Nearest-rank percentile (0 for no values): the smallest value with ``fraction`` of them at or below it."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def percentiles(values) -> dict[str, float | None]:
    """p50 and p95, rounded; None for no values."""
    if not values:
        return {"p50": None, "p95": None}
    return {"p50": round(percentile(values, 0.50), 2), "p95": round(percentile(values, 0.95), 2)}
