"""The server's own counts for ``kvcomplete/stats``, merged with the engine's."""

from __future__ import annotations

from collections import deque

from kvcomplete.completion.stats import ENGINE_COUNTERS, percentile

LATENCY_WINDOW = 1000  # the percentiles cover the most recent answered requests


class ServerStats:
    """Completion requests received, requests answered as cancelled, and answer latencies."""

    def __init__(self) -> None:
        self.requests = 0
        self.cancelled = 0
        self._latencies_ms: deque[float] = deque(maxlen=LATENCY_WINDOW)

    def answered(self, latency_ms: float) -> None:
        self._latencies_ms.append(latency_ms)

    def report(self, engine_stats: dict) -> dict:
        """The ``kvcomplete/stats`` result."""
        latencies = list(self._latencies_ms)
        return {
            "requests": self.requests,
            "cancelled": self.cancelled,
            "model": None,
            **{name: 0 for name in ENGINE_COUNTERS},  # zero until the engine has them (or while no model is loaded)
            **engine_stats,
            "latencyMs": {
                "p50": round(percentile(latencies, 0.50), 2),
                "p95": round(percentile(latencies, 0.95), 2),
            },
        }
