"""The context window: the stretch of a document's tokens that its cache holds, around the cursor.

A file of any size costs what its window costs: the window is at most ``budget`` tokens, positions restart
at its first token (so a 100k-token file still uses positions the model was trained on), and it starts at a
line start. It follows the cursor with hysteresis:

- it moves with the text: an edit above it shifts its bounds, an edit inside it grows or shrinks it;
- a cursor move inside it is free (left to right, the tokens after the cursor are simply not attended);
- typing grows it; past the budget its end is trimmed first (dropping the last tokens moves nothing);
- the cursor leaving it — or getting within ``min_before`` tokens of its start, or so far down that the
  part before the cursor alone exceeds the budget — re-places it with ``before_share`` of the budget
  before the cursor, so the next re-placement is a long way off. The cache reuses the overlap (PIE).

Plain Python over token indices; the engine turns windows into cached prompts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from kvcomplete.completion.text.mirror import TokenEdit

ALIGN_SEARCH = 64  # tokens searched for a line start when placing a window


@dataclass(frozen=True, slots=True)
class Window:
    """Document tokens [start, end)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        assert 0 <= self.start <= self.end, self

    def __len__(self) -> int:
        return self.end - self.start

    def shifted(self, edit: TokenEdit) -> Window:
        """The same stretch of text after ``edit`` (document token indices before it): text inserted at
        or inside the window's edges joins it, deleted text leaves it."""
        start, end = edit.start, edit.start + edit.deleted
        delta = len(edit.inserted) - edit.deleted
        first = self.start if self.start <= start else (self.start + delta if self.start >= end else start)
        last = self.end if self.end < start else (self.end + delta if self.end >= end else start + len(edit.inserted))
        return Window(first, max(first, last))


@dataclass(frozen=True, slots=True)
class WindowPolicy:
    budget: int  # tokens at most
    before_share: float = 0.75  # of the budget placed before the cursor when (re)placing
    min_before: int = 64  # fewer window tokens than this before the cursor (past the file start): re-place

    def __post_init__(self) -> None:
        if self.budget < 2 * self.min_before:
            raise ValueError(f"a context window needs at least {2 * self.min_before} tokens, not {self.budget}")

    def keeps(self, window: Window | None, cursor: int) -> bool:
        """Whether a request at token index ``cursor`` can use ``window`` (grown or trimmed at its end)."""
        if window is None or cursor < window.start or cursor - window.start > self.budget:
            return False
        if window.start > 0 and cursor - window.start < self.min_before:
            return False
        return cursor <= window.end + self.budget // 8

    def place(self, cursor: int, length: int, starts_line: Callable[[int], bool]) -> Window:
        """A fresh window around ``cursor`` in a document of ``length`` tokens, an eighth of the budget short
        of it: the slack typing grows into before anything has to be trimmed."""
        total = self.budget - self.budget // 8
        after = min(length - cursor, max(0, total - round(self.budget * self.before_share)))
        start = max(0, cursor - (total - after))
        start = _align(start, min(cursor, start + ALIGN_SEARCH), starts_line)
        return Window(start, min(length, start + total))

    def for_request(self, window: Window | None, cursor: int, length: int, starts_line: Callable[[int], bool],
                    with_after: bool = False, grow: bool = False) -> Window:
        """The window a request at ``cursor`` uses: the current one when it keeps (its end trimmed to the
        budget, never before the cursor), else a fresh placement.

        Left to right, a fresh window ends at the cursor: the tokens after it are background work (``grow``:
        up to the budget). A FIM prompt reads the text after the cursor, so ``with_after`` takes the
        placement's end; it then follows the text (typing grows the window into its slack).
        """
        keep = self.keeps(window, cursor)
        placed = None if keep else self.place(cursor, length, starts_line)
        start = window.start if keep else placed.start
        end = window.end if keep else (placed.end if with_after else cursor)
        if grow:
            end = length
        return Window(start, max(cursor, min(end, start + self.budget, length)))


def _align(index: int, limit: int, starts_line: Callable[[int], bool]) -> int:
    """The first token index in [index, limit) that starts a line, else ``index``."""
    for candidate in range(index, limit):
        if candidate == 0 or starts_line(candidate):
            return candidate
    return index
