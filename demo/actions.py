"""What a user does in a replayed editing session, as data, and how fast they type.

A session is a list of steps, each a caption and actions. ``Type`` sends one key at a time; ``Wait``
stops until the suggestion is there and reads it; ``Pause`` stops for a while, suggestion or not;
``Accept`` presses Tab; ``MoveTo`` clicks elsewhere; ``DeleteLine`` deletes a whole line at once (one
didChange, as ``dd`` does). Anchors name places by the text around them, so a script reads like the file
it edits and fails loudly when the file changes.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

END = ""  # MoveTo(END): the end of the file


@dataclass(frozen=True, slots=True)
class Type:
    """Type ``text`` key by key ("\\b" is Backspace). With ``accept_matching``, Tab accepts the suggestion
    shown when it starts with the rest of what the user means to type (up to where they differ)."""

    text: str
    accept_matching: bool = True


@dataclass(frozen=True, slots=True)
class Wait:
    """Stop typing until the suggestion for the cursor is shown, then read it for ``read_s`` seconds."""

    read_s: float = 0.6


@dataclass(frozen=True, slots=True)
class Pause:
    """Stop typing for ``seconds``, whatever is on screen: a typist who reads a suggestion if one shows up
    in time and goes on either way (the pauses the latency trace measures ghost text in)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Accept:
    """Tab: accept the whole suggestion shown (nothing happens when none is)."""


@dataclass(frozen=True, slots=True)
class MoveTo:
    """Put the cursor right after the first occurrence of ``anchor`` (``END``: the end of the file)."""

    anchor: str


@dataclass(frozen=True, slots=True)
class DeleteLine:
    """Delete the whole line that holds ``anchor``, its line break included; the cursor goes to its start."""

    anchor: str


Action = Type | Wait | Pause | Accept | MoveTo | DeleteLine


@dataclass(frozen=True, slots=True)
class Step:
    caption: str
    actions: tuple[Action, ...]


def anchor_offset(text: str, anchor: str) -> int:
    """The offset right after ``anchor`` in ``text`` (its end for ``END``); a missing anchor is a script error."""
    if anchor == END:
        return len(text)
    index = text.find(anchor)
    if index < 0:
        raise ValueError(f"the replayed file has no {anchor!r}: the script does not fit the file")
    return index + len(anchor)


def line_span(text: str, anchor: str) -> tuple[int, int]:
    """The start and end (after its line break) of the line holding ``anchor``."""
    end_of_anchor = anchor_offset(text, anchor)
    start = text.rfind("\n", 0, end_of_anchor - len(anchor)) + 1
    end = text.find("\n", end_of_anchor)
    return start, len(text) if end < 0 else end + 1


def next_key(text: str) -> str:
    """The first keystroke of ``text``: one character, or a line break with the indentation after it (the
    editor indents the new line) or a run of leading indentation (Tab)."""
    indented = re.match(r"\n?[ \t]+", text)
    return indented.group() if indented else text[:1]


@dataclass(slots=True)
class Pacing:
    """Seconds between keys, drawn from a seeded generator: quick inside a word, slower after a space or a
    bracket, a pause after a line break. ``scale`` speeds everything up (tests) or slows it down."""

    scale: float = 1.0
    seed: int = 7
    within_word: tuple[float, float] = (0.045, 0.11)
    after_separator: tuple[float, float] = (0.12, 0.3)
    after_line: tuple[float, float] = (0.35, 0.7)
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.scale <= 0:
            raise ValueError(f"the pace scale must be positive, not {self.scale}")
        self._random = random.Random(self.seed)

    def after(self, key: str) -> float:
        """The pause after ``key`` before the next action."""
        if key.startswith("\n"):
            low, high = self.after_line
        elif is_word(key[-1]) or key == "\b":
            low, high = self.within_word
        else:
            low, high = self.after_separator
        return self.scale * self._random.uniform(low, high)

    def seconds(self, value: float) -> float:
        """``value`` seconds of the script (a pause to read), at this pace."""
        return self.scale * value


def is_word(char: str) -> bool:
    """A character of an identifier."""
    return char.isalnum() or char == "_"
