"""The figures of a replayed session, computed from its records alone (so tests can hand-make them).

A replay keeps every input (key, Tab, line deletion, cursor move) and every inline completion request.
Each request answers one input: the debounced request after it, and the re-requests the editor sends on
``kvcomplete/suggestionsChanged`` while the text and cursor are still that input's (``refresh``). From
those records come, besides the counts:

- keystroke to result: from the input to the answer of its debounced request (what it has always been);
- keystroke to first ghost text: from the input to the first answer with a suggestion shown after it,
  partial (cut at the latency budget) or not;
- keystroke to final suggestion, where measurable: from the input to the first answer whose suggestion #1
  equals the finished one at that text and cursor. The editor cannot tell a partial answer from a final
  one, so the finished suggestions come from a reference: the answers of a run with ``latencyBudgetMs 0``
  (only finished suggestions) at the same text before and after the cursor (``finals_of``). Where the
  final is not reached, the user may have moved on first, or one run showed the rest of a suggestion
  decoded further up (type-along, a continued decoding) and the other a fresh decode at that cursor:
  both are greedy, from different places, and may differ;
- ghost text in pauses: of the pauses of at least ``PAUSE_S`` between two inputs, the share in which
  ghost text was on screen before the next input (kept while typing along, or shown by an answer). Pauses
  in which the script's user waited for the answer (``Wait``) do not count: they end after an answer by
  construction, so they would only say that the answer came;
- first ghost text after a Tab accept: keystroke to first ghost text for the inputs that were Tabs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kvcomplete.lsp_server.stats import percentile

PAUSE_S = 0.5  # a typing pause long enough that the user may look for ghost text


@dataclass(slots=True)
class Input:
    """One input of the user: what it was, when, and whether ghost text stayed on screen through it."""

    number: int  # 0-based, the index in Replay.inputs
    step: int  # the script's step (1-based)
    trigger: str  # the key, "Tab", "move" or "delete line"
    at: float  # loop time
    ghost_kept: bool = False  # ghost text typed along stayed on screen right after it
    waited: bool = False  # the user then waited for the answer (a Wait), so the pause after it does not count


@dataclass(slots=True)
class Request:
    """One inline completion request and what became of it."""

    number: int
    step: int  # the script's step (1-based) while it was sent
    msg_id: str
    trigger: str  # the key, Tab, "move" or "delete line" after which the debounce fired
    line: int  # 1-based, for people
    column: int
    version: int
    offset: int
    key_at: float  # loop time of the trigger
    sent_at: float
    done_at: float | None = None
    outcome: str = "pending"  # answered (shown) | stale (the editor moved on) | cancelled | failed
    items: tuple[str, ...] = ()
    type_along: bool = False
    error: str | None = None
    cache: dict | None = None  # the engine counters' change since the previous answer (with track_cache)
    key: int = 0  # the Input it answers
    refresh: bool = False  # sent on kvcomplete/suggestionsChanged, not by the debounce
    context: tuple[str, str] = ("", "")  # the text before and after the cursor

    @property
    def latency_ms(self) -> float:
        """Keystroke to result: from the trigger to the answer."""
        return (self.done_at - self.key_at) * 1000

    @property
    def server_ms(self) -> float:
        """Request to result, as the client sees it."""
        return (self.done_at - self.sent_at) * 1000

    @property
    def shown(self) -> bool:
        """The editor showed ghost text from this answer."""
        return self.outcome == "answered" and bool(self.items)


def percentiles(values: list[float]) -> dict:
    """Nearest-rank p50 and p95 (as the server's stats compute them), in ms, and how many values."""
    return {"p50": round(percentile(values, 0.50), 1), "p95": round(percentile(values, 0.95), 1), "n": len(values)}


def finals_of(requests: Iterable[Request]) -> dict[tuple[str, str], str]:
    """Suggestion #1 of each text and cursor answered (the first answer there), from a run whose answers are
    all finished suggestions (``latencyBudgetMs 0``): the reference for ``figures``' final suggestion."""
    finals: dict[tuple[str, str], str] = {}
    for request in requests:
        if request.shown:
            finals.setdefault(request.context, request.items[0])
    return finals


def figures(requests: list[Request], inputs: list[Input],
            finals: Mapping[tuple[str, str], str] | None = None) -> dict:
    """The timing figures of ``requests`` answering ``inputs`` (see the module's docstring); the final
    suggestion's only with ``finals`` (else None)."""
    by_input: dict[int, list[Request]] = {}
    for request in sorted((request for request in requests if request.shown), key=lambda request: request.done_at):
        by_input.setdefault(request.key, []).append(request)
    first = {key: shown[0] for key, shown in by_input.items()}
    after_tab = [first[item.number].latency_ms for item in inputs if item.trigger == "Tab" and item.number in first]
    pauses = [(item, following) for item, following in zip(inputs, inputs[1:])
              if following.at - item.at >= PAUSE_S and not item.waited]
    covered = sum(item.ghost_kept or item.number in first for item, _ in pauses)
    result = {
        "keystroke_to_first_ghost_ms": percentiles([request.latency_ms for request in first.values()]),
        "after_tab_first_ghost_ms": percentiles(after_tab),
        "pauses": len(pauses), "pauses_with_ghost": covered,
        "pauses_with_ghost_share": round(covered / len(pauses), 3) if pauses else None,
        "keystroke_to_final_ms": None, "final_inputs": 0, "final_reached": 0,
    }
    if finals is not None:
        result.update(_finals(by_input, finals))
    return result


def _finals(by_input: dict[int, list[Request]], finals: Mapping[tuple[str, str], str]) -> dict:
    """Keystroke to the finished suggestion #1, over the inputs whose text and cursor the reference answered."""
    latencies, measurable = [], 0
    for shown in by_input.values():
        final = finals.get(shown[0].context)
        if final is None:
            continue
        measurable += 1
        reached = next((request for request in shown if request.items[0] == final), None)
        if reached is not None:
            latencies.append(reached.latency_ms)
    return {"keystroke_to_final_ms": percentiles(latencies), "final_inputs": measurable,
            "final_reached": len(latencies)}
