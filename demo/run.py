"""`kvcomplete demo`: a guided editing session on ``examples/geometry.py``, replayed through the real LSP server.

``kvcomplete serve`` runs as a subprocess over stdio. The session types methods key by key (requests
debounced and cancelled as an editor does), fixes a typo, deletes a line, edits far above the cursor,
moves the cursor and accepts suggestions with Tab. The terminal shows the file around the cursor with
the ghost text, every request with its keystroke-to-result latency, and what the engine's cache did
(full encode or PIE update, tokens encoded, drafts accepted); plain lines when stdout is not a terminal.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from rich.console import Console

from completion import default_model
from completion.config import Settings
from demo.actions import Pacing
from demo.replay import Timing
from demo.scripts import DEMO, EXAMPLE
from demo.server import ServerError
from demo.session import SessionResult, replay_session
from demo.view import LiveView, PlainView


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


def main(settings: Settings, pace: float = 1.0) -> int:
    """Run the demo on stdout; 0 when suggestions were shown and the server's copy matched the replay's."""
    try:
        result = asyncio.run(run_demo(settings, Pacing(scale=pace), sys.stdout))
    except ServerError as error:
        print(f"kvcomplete demo: {error}", file=sys.stderr)
        return 1
    shown = any(request.items for request in result.replay.requests if request.outcome == "answered")
    return 0 if shown and result.summary["in_sync"] else 1
