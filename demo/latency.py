"""Keystroke-to-result latency through the real server: a typing trace replayed as an editor sends it.

``run`` is what ``kvcomplete bench`` calls. Lines of ``examples/geometry.py`` are removed and typed back
key by key (seeded human pacing, didChange per key, requests debounced and cancelled as typing goes on),
and the user stops to read the suggestion at the end of each line. The answer is measured from the key
the request fired after (the debounce included) and from the request itself, as the client sees both.
"""

from __future__ import annotations

import asyncio

from completion.config import Settings
from demo.actions import Pacing
from demo.replay import Observer, Timing
from demo.scripts import latency_trace
from demo.session import replay_session

TYPING_STEP = 2  # the trace's first step opens the file (a full encode); latency is measured on the typing


class Silent(Observer):
    """Observes nothing (the Protocol's methods do nothing): the benchmark only reads the requests at the end."""


async def measure(settings: Settings, quick: bool, pacing: Pacing, timing: Timing = Timing()) -> dict:
    trace = latency_trace(quick)
    result = await replay_session(settings, trace.path, trace.opened_text(), trace.steps(), Silent(), pacing, timing)
    if not result.summary["in_sync"]:
        raise RuntimeError(f"after the trace the server's copy of {trace.path.name} differs from the client's")
    typing = result.replay.summary(from_step=TYPING_STEP)
    opening = [request for request in result.replay.requests if request.step < TYPING_STEP]
    first = next((request for request in opening if request.outcome == "answered"), None)
    keystroke, request = typing["keystroke_to_result_ms"], typing["request_to_result_ms"]
    return {  # flat scalars for tables, the server's counters as they are
        "trace": trace.describe(), "typed_chars": len(trace.parts()[1]), "edits": typing["edits"],
        "debounce_ms": typing["debounce_ms"], "pace": pacing.scale, "seed": pacing.seed, "quick": quick,
        "keystroke_to_result_p50_ms": keystroke["p50"], "keystroke_to_result_p95_ms": keystroke["p95"],
        "request_to_result_p50_ms": request["p50"], "request_to_result_p95_ms": request["p95"],
        "requests": typing["requests"], "answered": typing["answered"], "cancelled": typing["cancelled"],
        "stale": typing["stale"], "failed": typing["failed"], "type_along_share": typing["type_along_share"],
        "accepted": len(typing["accepted"]),
        "opening_requests": len(opening), "first_answer_ms": None if first is None else round(first.latency_ms, 1),
        "server_ready_s": result.summary["ready_s"], "wall_s": result.summary["wall_s"],
        "server_stats": result.summary["server_stats"],
    }


def run(settings: Settings, quick: bool, pace: float = 1.0) -> dict:
    """Replay the typing trace (quick: 7 lines; else 13) through a fresh ``kvcomplete serve`` with ``settings``;
    ``pace`` scales the pauses between keys (tests type faster).

    Returns, for the typing: keystroke-to-result and request-to-result p50/p95 in ms over the answers the
    editor showed (``answered`` of them), the requests sent, answered, cancelled and stale, the share of
    answers that came from type-along; for the opening: its requests and the first answer's latency (the
    full encode of the file); the server's ``kvcomplete/stats`` over both; a description of the trace.
    """
    return asyncio.run(measure(settings, quick, Pacing(scale=pace)))
