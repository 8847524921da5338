"""`kvcomplete demo`: a guided editing session on ``examples/geometry.py``, replayed through the real LSP server.

``kvcomplete serve`` runs as a subprocess over stdio. The session types methods key by key (requests
debounced and cancelled as an editor does), fixes a typo, deletes a line, edits far above the cursor,
moves the cursor and accepts suggestions with Tab. The terminal shows the file around the cursor with
the ghost text, every request with its keystroke-to-result latency, and what the engine's cache did
(full encode or PIE update, tokens encoded, drafts accepted); plain lines when stdout is not a terminal.

The summary gives keystroke to first ghost text, ghost text in typing pauses and after Tab at the settings'
``latencyBudgetMs``. With ``compare`` the same session then runs again, unseen, through a second server with
``latencyBudgetMs 0`` (only finished suggestions), and a table puts the two side by side, the final
suggestion measured against the unbudgeted answers; ``kvcomplete bench latency`` does the same on a typing
trace. It doubles the demo's time, so a plain ``kvcomplete demo`` (``make demo``) does not.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from typing import TextIO

from rich.console import Console
from rich.table import Table

from kvcomplete.completion.config import Settings
from kvcomplete.completion.model import default_model
from kvcomplete.demo.actions import Pacing
from kvcomplete.demo.figures import finals_of
from kvcomplete.demo.latency import COMPARED, Silent, flat_figures, side_by_side
from kvcomplete.demo.replay import Timing
from kvcomplete.demo.scripts import DEMO, EXAMPLE
from kvcomplete.demo.server import ServerError
from kvcomplete.demo.session import SessionResult, replay_session
from kvcomplete.demo.view import LiveView, PlainView


def title(settings: Settings) -> str:
    model = settings.model or f"{default_model.NAME} (default)"
    return f"kvcomplete demo: {EXAMPLE.name}, {model}, device {settings.device}"


async def run_demo(settings: Settings, pacing: Pacing, stream: TextIO, timing: Timing = Timing()) -> SessionResult:
    """The demo session, shown on ``stream`` (redrawn when it is a terminal)."""
    console = Console(file=stream)
    view = LiveView(title(settings), console) if console.is_terminal else PlainView(title(settings), stream)
    with view:
        result = await replay_session(settings, EXAMPLE, EXAMPLE.read_text(), DEMO, view, pacing, timing,
                                      track_cache=True)
        view.finished(result.summary)
    return result


async def compare(settings: Settings, shown: SessionResult, pace: float, stream: TextIO,
                  timing: Timing = Timing()) -> SessionResult:
    """The demo session again, unseen, with ``latencyBudgetMs 0``; the figures of both side by side on ``stream``."""
    console = Console(file=stream)
    console.print("\nThe same session with latencyBudgetMs 0 (only finished suggestions), for comparison ...")
    unbudgeted = await replay_session(dataclasses.replace(settings, latency_budget_ms=0), EXAMPLE,
                                      EXAMPLE.read_text(), DEMO, Silent(), Pacing(scale=pace), timing)
    finals = finals_of(unbudgeted.replay.requests)
    runs = [flat_figures({**result.replay.summary(finals=finals), "server_stats": result.summary["server_stats"]},
                         budget)
            for budget, result in ((0, unbudgeted), (settings.latency_budget_ms, shown))]
    table = Table(title="latency budget off and on, the same session")
    rows = side_by_side(runs, COMPARED)
    for column in rows[0]:
        table.add_column(column, justify="left" if column == "measure" else "right")
    for row in rows:
        table.add_row(*("–" if value is None else str(value) for value in row.values()))
    console.print(table)
    return unbudgeted


def main(settings: Settings, pace: float = 1.0, compare_budgets: bool = False) -> int:
    """Run the demo on stdout (with ``compare_budgets``, then ``compare``); 0 when suggestions were shown and
    the server's copy matched the replay's."""
    try:
        result = asyncio.run(run_demo(settings, Pacing(scale=pace), sys.stdout))
        results = [result]
        if compare_budgets and settings.latency_budget_ms:
            results.append(asyncio.run(compare(settings, result, pace, sys.stdout)))
    except ServerError as error:
        print(f"kvcomplete demo: {error}", file=sys.stderr)
        return 1
    shown = any(request.items for request in result.replay.requests if request.outcome == "answered")
    return 0 if shown and all(each.summary["in_sync"] for each in results) else 1
