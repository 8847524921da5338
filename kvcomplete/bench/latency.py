"""The *latency* suite: a typing trace replayed through the LSP server, keystroke to ghost text, with
``latencyBudgetMs`` 0 and the settings' budget side by side (two servers, one after the other, one run).

The replay belongs to the demo (`demo/latency.py`, one implementation for `kvcomplete demo` and this suite);
``kvcomplete`` sits above ``demo``, so this suite imports it (when it runs: the other suites need no server).
"""

from __future__ import annotations

from kvcomplete.bench.report import table
from kvcomplete.bench.scale import Scale
from kvcomplete.completion.config import Settings
from kvcomplete.completion.model.spec import LoadedModel


def run(settings: Settings, loaded: LoadedModel, scale: Scale) -> dict:
    """``demo.latency.run``'s figures per budget (``runs``): keystroke to first ghost text and to the final
    suggestion p50/p95 ms, pauses with ghost text, requests, cancelled requests, re-requests, ..."""
    from kvcomplete.demo.latency import run as replay

    return replay(settings, scale.latency_quick)  # its own servers load their own model


def markdown(result: dict) -> str:
    from kvcomplete.demo.latency import side_by_side

    return f"{result['trace']}.\n\n" + table(side_by_side(result["runs"]))
