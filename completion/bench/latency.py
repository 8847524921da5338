"""The *latency* suite: a typing trace replayed through the LSP server, keystroke to result.

The replay belongs to the demo (`demo/latency.py`, one implementation for `kvcomplete demo` and this suite);
it is imported only when this suite runs, so the other suites do not depend on it.
"""

from __future__ import annotations

from completion.bench.report import SuiteUnavailable, table
from completion.bench.scale import Scale
from completion.config import Settings
from completion.models import LoadedModel


def run(settings: Settings, loaded: LoadedModel, scale: Scale) -> dict:
    """``demo.latency.run``'s figures: keystroke-to-result p50/p95 ms, requests, cancelled requests, ..."""
    try:
        from demo.latency import run as replay
    except ImportError as error:
        if error.name not in ("demo.latency", "demo"):
            raise
        raise SuiteUnavailable("demo/latency.py (the LSP typing replay) is not installed yet") from None
    return {"replay": replay(settings, scale.latency_quick)}  # its own server loads its own model


def markdown(result: dict) -> str:
    scalars = [{"measure": key, "value": value} for key, value in result["replay"].items()
               if isinstance(value, (int, float, str, bool))]
    return table(scalars)
