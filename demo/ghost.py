"""Ghost text as an editor keeps it, and the two judgements the replay makes about suggestions.

Editors show the first suggestion greyed after the cursor and keep showing what is left of it while the
user types the same characters. A user presses Tab when the suggestion starts with what they were about
to type (``matching_part``). An answer came from the engine's type-along when it is exactly what remains
of the suggestions answered before, after the characters typed since (``Answers.type_along``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from kvcomplete.demo.actions import is_word

MIN_ACCEPT = 3  # characters: a shorter match is faster to type than to check


@dataclass(frozen=True, slots=True)
class Ghost:
    """The suggestions shown at ``offset`` in document ``version``; ``items[0]`` is the one displayed."""

    items: tuple[str, ...]
    offset: int
    version: int

    @property
    def text(self) -> str:
        return self.items[0]

    def after_typing(self, typed: str, version: int) -> Ghost | None:
        """What stays shown once ``typed`` was inserted at the cursor: the rest of the items that begin with it."""
        rest = tuple(item[len(typed):] for item in self.items if item.startswith(typed) and len(item) > len(typed))
        return Ghost(rest, self.offset + len(typed), version) if rest else None


def matching_part(suggestion: str, intended: str) -> str:
    """The part of ``suggestion`` a user who means to type ``intended`` accepts with Tab: all of it when
    ``intended`` starts with it, else its common beginning with ``intended`` cut back to where neither
    splits a word (partial accepts go by words); empty when that is shorter than MIN_ACCEPT."""
    end = len(os.path.commonprefix([suggestion, intended]))
    if end < len(suggestion):
        while end > 0 and (_splits_word(suggestion, end) or _splits_word(intended, end)):
            end -= 1
    return suggestion[:end] if end >= MIN_ACCEPT else ""


def _splits_word(text: str, index: int) -> bool:
    return 0 < index < len(text) and is_word(text[index - 1]) and is_word(text[index])


class Answers:
    """The client's record of the engine's last decoded suggestions, to recognise type-along answers.

    The engine answers without running the model when the text before the cursor extends the text it last
    decoded at by characters its suggestions begin with, and the text after the cursor is unchanged: it
    returns the rest of those suggestions. The client sees the same answers, so it can tell them apart.
    """

    def __init__(self) -> None:
        self._last: tuple[str, str, tuple[str, ...]] | None = None  # before, after, items of the last decode

    def type_along(self, before: str, after: str, items: tuple[str, ...]) -> bool:
        """Whether ``items``, answered with ``before``/``after`` around the cursor, came from type-along;
        if not, they are the engine's latest decoded suggestions."""
        if self._last is not None and items:
            last_before, last_after, last_items = self._last
            if after == last_after and before.startswith(last_before):
                typed = before[len(last_before):]
                rest = tuple(item[len(typed):] for item in last_items
                             if item.startswith(typed) and len(item) > len(typed))
                if rest[: len(items)] == items:
                    return True
        self._last = (before, after, items)
        return False
