"""Whether the backend is usable, and when to try it again: a dead engine is not hammered.

After a failure the backend is "down" and requests answer empty at once with the reason, until the retry
delay has passed (1 s, 2 s, 4 s, 8 s, then every 10 s); the next request then tries it (and the engine's
idle work checks it, so ghost text comes back without waiting for a keystroke). A success resets the delay.
The editor is told once when the backend stops being usable and once when it is back (``on_change``; at once
if it is down when the editor starts listening), the log at each new error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

FIRST_RETRY_S = 1.0
LAST_RETRY_S = 10.0


@dataclass(slots=True)
class BackendLink:
    kind: str  # the backend setting: llama-server or openai
    url: str
    clock: Callable[[], float] = time.monotonic
    fallback: bool = False  # backendFallback: the local model answers while it is down
    on_change: Callable[[str, bool], None] = lambda message, up: None  # (message for the user, whether it is up)
    state: str = "unknown"  # unknown (not tried yet), ok, down, or wrong-model (checked, refused)
    error: str | None = None
    failures: int = 0
    retry_at: float = 0.0

    def due(self) -> bool:
        """Whether the backend may be tried now: it is not down, or its retry delay has passed."""
        return self.state not in ("down", "wrong-model") or self.clock() >= self.retry_at

    def failed(self, error: str, state: str = "down") -> None:
        """Down (or serving another model) since now: next try after the next delay."""
        if self.state != state or self.error != error:
            logger.warning("%s at %s: %s", self.kind, self.url, error)
        delay, previous = min(FIRST_RETRY_S * 2 ** self.failures, LAST_RETRY_S), self.state
        self.state, self.error, self.failures, self.retry_at = state, error, self.failures + 1, self.clock() + delay
        if state != previous:
            self.on_change(self._down_message(), False)

    def succeeded(self) -> None:
        if self.state != "ok":
            logger.info("%s at %s is ready", self.kind, self.url)
        if self.state in ("down", "wrong-model"):
            self.on_change(f"kvcomplete: {self.kind} at {self.url} answers again", True)
        self.state, self.error, self.failures, self.retry_at = "ok", None, 0, 0.0

    def tell(self, on_change: Callable[[str, bool], None]) -> None:
        """Send the changes to ``on_change`` from now on, starting with the present one if it is down."""
        self.on_change = on_change
        if self.state in ("down", "wrong-model"):
            on_change(self._down_message(), False)

    def _down_message(self) -> str:
        meanwhile = "the local model answers meanwhile" if self.fallback else "no suggestions until it answers"
        return f"kvcomplete: {self.reason()} ({meanwhile})"

    def reason(self) -> str:
        """Why a request got nothing, for the log and the answer (the same while the failure lasts)."""
        return f"{self.kind} at {self.url}: {self.error}"

    def report(self) -> dict:
        """``kvcomplete/stats``' ``backend``."""
        return {"kind": self.kind, "url": self.url, "state": self.state, "error": self.error}
