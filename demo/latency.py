"""Keystroke-to-ghost-text latency through the real server, with the latency budget off and on, side by side.

``run`` is what ``kvcomplete bench`` calls. Lines of ``examples/geometry.py`` are removed and typed back
key by key (seeded human pacing, didChange per key, requests debounced and cancelled as typing goes on),
and the user pauses at the end of each line (a second, suggestion or not). The same trace, at the same pace, goes
through two fresh servers one after the other: ``latencyBudgetMs 0`` (only finished suggestions, today's
all-or-nothing answers), then the settings' budget (partial answers that grow in the background). The
unbudgeted run's answers are the finished suggestions the budgeted run's "final suggestion" is measured
against (``figures.finals_of``). Answers are measured from the key the request fired after (the debounce
included) and from the request itself, as the client sees both.
"""

from __future__ import annotations

import asyncio
import dataclasses

from kvcomplete.completion.config import Settings
from kvcomplete.demo.actions import Pacing
from kvcomplete.demo.figures import finals_of
from kvcomplete.demo.replay import Observer, Timing
from kvcomplete.demo.scripts import latency_trace
from kvcomplete.demo.session import SessionResult, replay_session

TYPING_STEP = 2  # the trace's first step opens the file (a full encode); latency is measured on the typing
# What the demo's closing comparison shows (the benchmark shows every flat figure).
COMPARED = ("keystroke_to_first_ghost_p50_ms", "keystroke_to_first_ghost_p95_ms", "keystroke_to_final_p50_ms",
            "keystroke_to_final_p95_ms", "pauses", "pauses_with_ghost_share", "after_tab_first_ghost_p50_ms",
            "requests", "cancelled", "refreshes")
SERVER_TIMINGS = ("firstAnswerMs", "finalSuggestionMs")
SERVER_COUNTERS = ("partialAnswers", "continued", "prefetches", "backgroundSteps")


class Silent(Observer):
    """Observes nothing (the Protocol's methods do nothing): the benchmark only reads the requests at the end."""


def budgets(settings: Settings) -> list[int]:
    """The latency budgets compared: off, then the settings' (only off when that is off too)."""
    return [0, settings.latency_budget_ms] if settings.latency_budget_ms else [0]


def flat_figures(summary: dict, budget: int) -> dict:
    """A summary's figures as flat scalars (for tables), with the server's timings and counters."""
    stats = summary["server_stats"]
    result = {"latency_budget_ms": budget}
    for name in ("keystroke_to_result", "request_to_result", "keystroke_to_first_ghost", "keystroke_to_final",
                 "after_tab_first_ghost"):
        values = summary[f"{name}_ms"] or {"p50": None, "p95": None, "n": 0}
        found = values["n"] > 0
        result |= {f"{name}_p50_ms": values["p50"] if found else None,
                   f"{name}_p95_ms": values["p95"] if found else None, f"{name}_n": values["n"]}
    for name in ("pauses", "pauses_with_ghost", "pauses_with_ghost_share", "final_inputs", "final_reached",
                 "requests", "answered", "cancelled", "stale", "failed", "refreshes",
                 "notifications", "stale_notifications", "type_along_share", "edits", "debounce_ms"):
        result[name] = summary[name]
    result["accepted"] = len(summary["accepted"])
    for name in SERVER_TIMINGS:
        result |= {f"server_{name}_p50": stats[name]["p50"], f"server_{name}_p95": stats[name]["p95"]}
    result |= {f"server_{name}": stats[name] for name in SERVER_COUNTERS}
    return result


async def measure(settings: Settings, quick: bool, pace: float = 1.0, timing: Timing = Timing()) -> dict:
    trace = latency_trace(quick)
    results: list[tuple[int, SessionResult]] = []
    for budget in budgets(settings):
        result = await replay_session(dataclasses.replace(settings, latency_budget_ms=budget), trace.path,
                                      trace.opened_text(), trace.steps(), Silent(), Pacing(scale=pace), timing)
        if not result.summary["in_sync"]:
            raise RuntimeError(f"after the trace the server's copy of {trace.path.name} differs from the client's "
                               f"(latencyBudgetMs {budget})")
        results.append((budget, result))
    finals = finals_of(results[0][1].replay.requests)  # latencyBudgetMs 0: every answer is finished
    runs = []
    for budget, result in results:
        opening = [request for request in result.replay.requests if request.step < TYPING_STEP]
        first = next((request for request in opening if request.outcome == "answered"), None)
        typing = {**result.replay.summary(from_step=TYPING_STEP, finals=finals),
                  "server_stats": result.summary["server_stats"]}
        runs.append({**flat_figures(typing, budget), "opening_requests": len(opening),
                     "first_answer_ms": None if first is None else round(first.latency_ms, 1),
                     "server_ready_s": result.summary["ready_s"], "wall_s": result.summary["wall_s"],
                     "server_stats": result.summary["server_stats"]})
    return {"trace": trace.describe(), "typed_chars": len(trace.parts()[1]), "pace": pace, "seed": Pacing().seed,
            "quick": quick, "runs": runs}


def run(settings: Settings, quick: bool, pace: float = 1.0) -> dict:
    """Replay the typing trace (quick: 7 lines; else 13) through a fresh ``kvcomplete serve`` per budget
    (``budgets``); ``pace`` scales the pauses between keys (tests type faster).

    Returns the trace's description and, per budget (``runs``), for the typing: keystroke to result, to the
    first ghost text, to the final suggestion and after a Tab (p50/p95 ms), the share of pauses with ghost
    text, the requests sent, answered, cancelled, stale and re-requested on suggestionsChanged; for the
    opening: its requests and the first answer's latency (the full encode of the file); the server's
    ``kvcomplete/stats`` over both.
    """
    return asyncio.run(measure(settings, quick, pace))


def side_by_side(runs: list[dict], names: tuple[str, ...] | None = None) -> list[dict]:
    """One row per figure (``names``, or every scalar of the first run), a column per run's budget."""
    names = names or tuple(name for name, value in runs[0].items()
                           if name != "latency_budget_ms" and (value is None or isinstance(value, (int, float, str))))
    return [{"measure": name, **{f"latencyBudgetMs {run['latency_budget_ms']}": run.get(name) for run in runs}}
            for name in names]
