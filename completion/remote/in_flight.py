"""A suggestion being streamed from the backend: answered at the latency budget, read on by idle work.

A request's answer leaves once suggestion #1 has text and the latency budget is spent, but its stream stays
open: the engine thread's idle steps read on until the stop rule or the stream ends it, then the editor is
told (``kvcomplete/suggestionsChanged``) and asks again, getting the whole suggestion by type-along. A new
request that needs the backend closes it first (it would hold the file's slot).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from kvcomplete.completion.remote.api import Usage
from kvcomplete.completion.remote.client import POLL_S, Deadline, EventStream
from kvcomplete.completion.remote.generation import SuggestionReader


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
            if self.reader.feed(event):
                return True
        if cancelled():
            return False
        self.reader.ended()
        return True

    def read_a_little(self) -> bool:
        """Idle work: the events that arrive within a short wait; True once the suggestion is complete."""
        wait_until = time.perf_counter() + POLL_S
        try:
            return self.read(lambda: wait_until)
        except Deadline:
            return False

