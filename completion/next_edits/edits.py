"""The user's last edit of a document, coalesced to whole lines: what next edits repeat elsewhere.

Typing several characters at one place, or deleting then typing there, is one edit: the record keeps the
changed lines as they were before the first change (``old``) and follows them as they change, so the lines
now are ``text[start:end]``. A change that does not touch those lines starts a new record. Every change
makes a new LastEdit object: work for an older one is out of date.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from kvcomplete.completion.text.mirror import TextChange


@dataclass(frozen=True, slots=True)
class LastEdit:
    """Lines [start, end) of the current text (code points, without the last line's break) were ``old``."""

    start: int
    end: int
    old: str
    changed_at: float  # perf_counter() of the latest change

    def new(self, text: str) -> str:
        """The edited lines as they are now."""
        return text[self.start: self.end]


def _line_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The whole lines that code points [start, end) of ``text`` touch, without the last one's line break."""
    first = text.rfind("\n", 0, start) + 1
    last = text.find("\n", end)
    return first, len(text) if last < 0 else last


def record_change(edit: LastEdit | None, text: str, change: TextChange) -> LastEdit:
    """The record after ``change`` is applied to ``text`` (the text before it)."""
    delta = len(change.text) - (change.end - change.start)
    now = time.perf_counter()
    if edit is not None and edit.start <= change.start and change.end <= edit.end:
        return LastEdit(edit.start, edit.end + delta, edit.old, now)
    start, end = _line_bounds(text, change.start, change.end)
    return LastEdit(start, end + delta, text[start:end], now)
