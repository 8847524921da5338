"""The server's copy of each open file, kept equal to the client's text, and LSP positions ⇄ offsets.

LSP counts lines by "\\n", "\\r\\n" and "\\r" only (str.splitlines also breaks on form feeds, U+2028 and
others, which would shift every position after them), and columns in the negotiated encoding's code units.
A document is a list of lines, each with its line break, so an edit re-splits only the lines it touches.
Columns convert with pygls' PositionCodec. Engine edits are code-point offsets into the whole text.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from itertools import accumulate

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from kvcomplete.completion.text.mirror import TextChange  # completion.engine's TextChange, without torch

_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


class PositionError(ValueError):
    """A position past the last line of a document."""


def split_lines(text: str) -> list[str]:
    """``text`` as LSP lines, each with its line break; the last one (possibly empty) has none."""
    lines = _LINES.findall(text)
    if not lines or lines[-1].endswith(("\n", "\r")):
        lines.append("")
    return lines


def line_content(line: str) -> str:
    """A line without its line break."""
    return line.rstrip("\r\n")


def code_point_column(content: str, units: int, codec: PositionCodec) -> int:
    """The code-point index of client column ``units`` in ``content``.

    Past the end clamps to the end (the LSP rule); a column inside a character (half a surrogate pair,
    part of a UTF-8 sequence) rounds up to the end of that character.
    """
    if content.isascii():
        return min(units, len(content))
    count = 0
    for index, char in enumerate(content):
        if count >= units:
            return index
        count += codec.client_num_units(char)
    return len(content)


@dataclass(frozen=True, slots=True)
class Cursor:
    """A request's position: the engine's code-point offset, the client's position, the line up to it."""

    offset: int
    position: types.Position
    line_before: str


@dataclass(eq=False)
class EditorText:
    """One open file as the client sees it: its lines, version and language."""

    uri: str
    lines: list[str]
    version: int | None = None
    language_id: str | None = None
    # Offset of the start of one line, so that typing on one line does not re-sum the lines above it.
    _line_offset: tuple[int, int] = field(default=(0, 0), repr=False)

    @classmethod
    def from_text(cls, uri: str, text: str, version: int | None = None, language_id: str | None = None):
        return cls(uri, split_lines(text), version, language_id)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def line_start(self, line: int) -> int:
        """The code-point offset where ``line`` starts; walks from the last line asked for."""
        cached_line, cached_offset = self._line_offset
        if line >= cached_line:
            offset = cached_offset + sum(map(len, self.lines[cached_line:line]))
        elif line < cached_line - line:
            offset = sum(map(len, self.lines[:line]))
        else:
            offset = cached_offset - sum(map(len, self.lines[line:cached_line]))
        self._line_offset = (line, offset)
        return offset

    def clamp(self, position: types.Position, codec: PositionCodec) -> tuple[int, int]:
        """(line, code-point column) of a client position; past the last line clamps to the end."""
        if position.line >= len(self.lines):
            return len(self.lines) - 1, len(self.lines[-1])
        content = line_content(self.lines[position.line])
        return position.line, code_point_column(content, position.character, codec)

    def cursor(self, position: types.Position, codec: PositionCodec) -> Cursor:
        """Where a request's position is; a line past the end is refused, a column past it clamps."""
        if position.line >= len(self.lines):  # lsprotocol already refused negative numbers
            raise PositionError(
                f"position {position.line}:{position.character} is outside {self.uri} ({len(self.lines)} lines)"
            )
        line, column = self.clamp(position, codec)
        before = line_content(self.lines[line])[:column]
        client_position = types.Position(line=line, character=codec.client_num_units(before))
        return Cursor(self.line_start(line) + column, client_position, before)

    def position_of(self, offset: int, codec: PositionCodec) -> types.Position | None:
        """The client position of code-point ``offset``; None past the end of the text."""
        ends = list(accumulate(map(len, self.lines)))
        if offset > ends[-1]:
            return None
        line = min(bisect.bisect_right(ends, offset), len(self.lines) - 1)
        column = offset - (ends[line - 1] if line else 0)
        before = line_content(self.lines[line])[:column]
        return types.Position(line=line, character=codec.client_num_units(before))

    def apply(self, change: types.TextDocumentContentChangeEvent, codec: PositionCodec) -> TextChange:
        """Apply one didChange content change; returns it as an engine edit on the text before it."""
        if not isinstance(change, types.TextDocumentContentChangePartial):
            old_length = self.line_start(len(self.lines) - 1) + len(self.lines[-1])
            self.lines = split_lines(change.text)
            self._line_offset = (0, 0)
            return TextChange(0, old_length, change.text)
        start = self.clamp(change.range.start, codec)
        end = self.clamp(change.range.end, codec)
        start, end = min(start, end), max(start, end)
        # Re-split the touched lines with one neighbour on each side: an edit can join "\r" and "\n".
        first = max(start[0] - 1, 0)
        last = min(end[0] + 2, len(self.lines))
        segment_start = self.line_start(first)
        start_offset = self.line_start(start[0]) + start[1]
        end_offset = self.line_start(end[0]) + end[1]
        segment = "".join(self.lines[first:last])
        segment = (
            segment[: start_offset - segment_start] + change.text + segment[end_offset - segment_start :]
        )
        replacement = split_lines(segment)
        if last < len(self.lines):
            replacement.pop()  # the segment ends with a line break: drop the empty line after it
        self.lines[first:last] = replacement
        self._line_offset = (first, segment_start)
        return TextChange(start_offset, end_offset, change.text)


class EditorTexts:
    """The editor's open files by URI."""

    def __init__(self) -> None:
        self._by_uri: dict[str, EditorText] = {}

    def __contains__(self, uri: str) -> bool:
        return uri in self._by_uri

    def __iter__(self):
        return iter(self._by_uri.values())

    def get(self, uri: str) -> EditorText | None:
        return self._by_uri.get(uri)

    def open(self, item: types.TextDocumentItem) -> EditorText:
        document = EditorText.from_text(item.uri, item.text, item.version, item.language_id)
        self._by_uri[item.uri] = document
        return document

    def close(self, uri: str) -> EditorText | None:
        return self._by_uri.pop(uri, None)
