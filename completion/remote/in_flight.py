"""A suggestion being streamed from the backend: answered at the latency budget, read on by idle work.

A request's answer leaves once suggestion #1 has text and the latency budget is spent, but its stream stays
open: the engine thread's idle steps read on until the stop rule or the stream ends it, then the editor is
told (``kvcomplete/suggestionsChanged``) and asks again, getting the whole suggestion by type-along. A new
request that needs the backend closes it first (it would hold a server slot), and waits until the server has let
go of that slot (``released_at``): otherwise the server, which takes the idle slot whose cache shares most with
the prompt, finds the file's slot still busy and prefills the whole prompt in another (with one editor typing,
p95 551 ms against 134 ms when requests were pinned to a slot; `kvcomplete bench team --quick`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from kvcomplete.completion.remote.api import Usage
from kvcomplete.completion.remote.client import POLL_S, Deadline, EventStream
from kvcomplete.completion.remote.generation import SuggestionReader

SLOT_RELEASE_MAX_S = 0.1  # the longest wait for a closed stream's slot (a slow server's step)


@dataclass(slots=True)
class InFlight:
    uri: str
    offset: int
    before: str  # the text around the cursor when it was asked
    after: str
    started: float  # perf_counter() when the request arrived
    reader: SuggestionReader
    stream: EventStream | None = None  # set once the request is sent
    counted: bool = False  # its prompt work is in the statistics
    step_s: float = 0.0  # the server's time per token, from the gaps between this stream's events
    last_event_at: float = 0.0
    server_done: bool = False  # the server ended the stream (its slot is free)

    def take_usage(self) -> Usage | None:
        """The request's prompt work once known (llama-server: with the first event; OpenAI: at the stream's
        end), given once, so that the statistics count it for the request that caused it."""
        if self.reader.usage is None or self.counted:
            return None
        self.counted = True
        return self.reader.usage

    def read(self, deadline: Callable[[], float], cancelled: Callable[[], bool] = lambda: False) -> bool:
        """Feed events to the reader until the suggestion is complete (True) or ``cancelled()`` (False);
        raises Deadline at ``deadline()`` and EngineUnavailable when the stream breaks."""
        for event in self.stream.events(deadline, cancelled):
            self._time_step()
            if self.reader.feed(event):
                return True
        if cancelled():
            return False
        self.server_done = True
        self.reader.ended()
        return True

    def _time_step(self) -> None:
        now = time.perf_counter()
        if self.last_event_at:
            gap = now - self.last_event_at
            self.step_s = gap if not self.step_s else 0.7 * self.step_s + 0.3 * gap
        self.last_event_at = now

    def released_at(self) -> float:
        """When the server has let go of this stream's slot, the stream closed now: at once when it ended the
        stream itself, else when it writes its next token to the closed connection, within about two steps
        (SLOT_RELEASE_MAX_S before the step is known)."""
        if self.server_done:
            return time.perf_counter()
        return time.perf_counter() + min(SLOT_RELEASE_MAX_S, 2 * self.step_s or SLOT_RELEASE_MAX_S)

    def read_a_little(self) -> bool:
        """Idle work: the events that arrive within a short wait; True once the suggestion is complete."""
        wait_until = time.perf_counter() + POLL_S
        try:
            return self.read(lambda: wait_until)
        except Deadline:
            return False

