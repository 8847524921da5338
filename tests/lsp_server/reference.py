"""LSP's text rules, written plainly from the specification: the oracle the server's documents are checked against."""

from __future__ import annotations

import re

from kvcomplete.demo.lsp_client import (
    units,  # the client's code-unit count (Python's codecs), not the server's (pygls')
)


def lsp_offset(text: str, line: int, character: int, encoding: str) -> int:
    """Position → code-point offset. Lines end at \\n, \\r\\n or \\r; past the end of a line means its end;
    past the last line means the end of the text; a column inside a character rounds up."""
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    if line >= len(starts):
        return len(text)
    content = re.match(r"[^\r\n]*", text[starts[line]:]).group()
    count = index = 0
    while index < len(content) and count < character:
        count += units(content[index], encoding)
        index += 1
    return starts[line] + index


def lsp_replace(text: str, start: tuple[int, int], end: tuple[int, int], new_text: str, encoding: str) -> str:
    """The text after an incremental change of the range ``start``–``end`` (a reversed range is reordered)."""
    a, b = sorted((lsp_offset(text, *start, encoding), lsp_offset(text, *end, encoding)))
    return text[:a] + new_text + text[b:]
