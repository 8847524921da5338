"""One replayed session from start to end: start the server, open the file, wait for the model, play the
steps, then ask the server for its copy of the file and its counters."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from kvcomplete.completion.config import Settings
from kvcomplete.demo.actions import Pacing, Step
from kvcomplete.demo.lsp_client import Editor
from kvcomplete.demo.replay import Observer, Replay, Timing
from kvcomplete.demo.server import served, wait_for_model


@dataclass(slots=True)
class SessionResult:
    summary: dict  # Replay.summary() + server_stats, in_sync, ready_s, wall_s
    final_text: str  # the replay's (the editor's) text at the end
    server_document: dict  # kvcomplete/document at the end: {uri, version, text, engineInSync}
    replay: Replay


async def replay_session(settings: Settings, path: Path, text: str, steps: tuple[Step, ...], observer: Observer,
                         pacing: Pacing, timing: Timing = Timing(), track_cache: bool = False) -> SessionResult:
    """Replay ``steps`` on ``text`` (opened as ``path``) through a fresh ``kvcomplete serve``."""
    uri = path.resolve().as_uri()
    started = time.perf_counter()
    observer.status("starting kvcomplete serve and loading the model")
    async with served(settings) as client:
        editor = Editor(client, uri, text)
        await wait_for_model(client, uri)
        ready_s = time.perf_counter() - started
        observer.status(f"server ready in {ready_s:.1f} s")
        replay = Replay(editor, observer, pacing, timing, track_cache=track_cache)
        await replay.play(steps)
        document = await client.document(uri)
        stats = await client.stats()
    in_sync = document["text"] == editor.text and document["version"] == editor.version and document["engineInSync"]
    summary = {**replay.summary(), "server_stats": stats, "in_sync": bool(in_sync), "ready_s": round(ready_s, 2),
               "wall_s": round(time.perf_counter() - started, 2)}
    return SessionResult(summary, editor.text, document, replay)
