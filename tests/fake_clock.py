"""A fake clock for code that throttles by an event loop's clock and timers (a pytest plugin: the ``fake_clock``
fixture). Time stands still until the test advances it, so a throttle's timing is exact and costs no real time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest


@dataclass
class FakeTimer:
    """A callback due at a time on the fake clock; ``cancel`` as on an asyncio TimerHandle."""

    due: float
    callback: Callable[..., object]
    args: tuple = ()
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """``time()`` and ``call_later()`` as an asyncio event loop has them, on a clock that only ``advance`` moves.

    It starts far from zero, as a monotonic clock does: code that remembers "never" as 0 must not find it recent.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._timers: list[FakeTimer] = []

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[..., object], *args: object) -> FakeTimer:
        timer = FakeTimer(self.now + max(delay, 0.0), callback, args)
        self._timers.append(timer)
        return timer

    def advance(self, seconds: float) -> None:
        """Move the clock on by ``seconds``, running each timer that falls due on the way at its due time, in
        the order of their due times (timers those callbacks set run too, if due before the end)."""
        end = self.now + seconds
        while due := [timer for timer in self._timers if not timer.cancelled and timer.due <= end]:
            timer = min(due, key=lambda timer: timer.due)  # min keeps the earliest set among equal times
            self._timers.remove(timer)
            self.now = timer.due
            timer.callback(*timer.args)
        self.now = end


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()
