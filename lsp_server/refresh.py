"""Telling the editor that its suggestions grew: ``kvcomplete/suggestionsChanged``, throttled per document.

LSP has no refresh request for inline completions. When background decoding extends the suggestions at a
cursor, the server notifies ``{uri, version, position}``; a plugin whose buffer still has that version and
cursor asks again and gets the longer suggestions at once. At most one notification per document per
``interval`` seconds goes out, and the last change is always sent (after the interval), so the final,
finished suggestions are never missed.
"""

from __future__ import annotations

from typing import Callable, Protocol

SUGGESTIONS_CHANGED = "kvcomplete/suggestionsChanged"
INTERVAL_S = 0.1


class Clock(Protocol):
    """What the throttle takes from the event loop: its clock and its timers (tests pass a fake clock)."""

    def time(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[..., object], *args: object) -> object: ...


class Throttle:
    """Calls ``send(uri, offset)`` at most once per ``interval`` per uri, the latest offset last."""

    def __init__(self, send: Callable[[str, int], None], loop: Clock, interval: float = INTERVAL_S) -> None:
        self._send, self._loop, self._interval = send, loop, interval
        self._last_sent: dict[str, float] = {}
        self._pending: dict[str, int] = {}  # uri -> offset waiting for its turn

    def changed(self, uri: str, offset: int) -> None:
        wait = self._last_sent.get(uri, float("-inf")) + self._interval - self._loop.time()
        if wait <= 0 and uri not in self._pending:
            self._fire(uri, offset)
            return
        if uri not in self._pending:
            self._loop.call_later(max(wait, 0), self._flush, uri)
        self._pending[uri] = offset

    def forget(self, uri: str) -> None:
        self._pending.pop(uri, None)
        self._last_sent.pop(uri, None)

    def _flush(self, uri: str) -> None:
        if uri in self._pending:
            self._fire(uri, self._pending.pop(uri))

    def _fire(self, uri: str, offset: int) -> None:
        self._last_sent[uri] = self._loop.time()
        self._send(uri, offset)
