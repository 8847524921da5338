"""The *latency* suite: a typing trace replayed through the LSP server, keystroke to result.

The replay belongs to the demo (`demo/latency.py`, one implementation for `kvcomplete demo` and this suite);
``kvcomplete`` sits above ``demo``, so this suite imports it (when it runs: the other suites need no server).
"""

from __future__ import annotations

from completion.config import Settings
from completion.models import LoadedModel
from kvcomplete.bench.report import table
from kvcomplete.bench.scale import Scale


def run(settings: Settings, loaded: LoadedModel, scale: Scale) -> dict:
    """``demo.latency.run``'s figures: keystroke-to-result p50/p95 ms, requests, cancelled requests, ..."""
    from demo.latency import run as replay

    return {"replay": replay(settings, scale.latency_quick)}  # its own server loads its own model


def markdown(result: dict) -> str:
    scalars = [{"measure": key, "value": value} for key, value in result["replay"].items()
               if isinstance(value, (int, float, str, bool))]
    return table(scalars)
