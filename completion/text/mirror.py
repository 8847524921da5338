"""The text ⇄ tokens mirror of one document, kept in step with edits by re-tokenizing a small window.

Invariant: ``vocab.to_bytes(tokens) == text.encode()`` after every edit. An edit re-tokenizes only a few
tokens around the changed bytes and returns the minimal token-range edit (the window follows it; the KV
session is brought to each request's prompt by diffing tokens: cache/token_diff.py).
A window whose tokenization disagrees with its neighbours at its edges is widened; after a few tries the
whole text is re-tokenized.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from itertools import accumulate

from kvcomplete.completion.text.vocab import Vocabulary

MARGIN_TOKENS = 3  # tokens kept on each side of the changed bytes inside the window
MAX_WIDENINGS = 4


@dataclass(frozen=True, slots=True)
class TextChange:
    """Replace code points [start, end) of the current text with ``text`` (LSP's incremental change)."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class TokenEdit:
    """Replace tokens [start, start + deleted) with ``inserted``."""

    start: int
    deleted: int
    inserted: tuple[int, ...]

    @property
    def delta(self) -> int:
        return len(self.inserted) - self.deleted


def _is_char_start(data: bytes, offset: int) -> bool:
    return offset == len(data) or (data[offset] & 0xC0) != 0x80


class TokenMirror:
    """One document's text and its tokens; ``apply`` keeps them equal (``vocab.to_bytes(tokens) == text``)."""

    def __init__(self, vocab: Vocabulary, text: str) -> None:
        self.vocab = vocab
        self.text = text
        self.tokens: list[int] = vocab.encode(text)
        self._ends: list[int] = list(accumulate(len(vocab.bytes_of[t]) for t in self.tokens))
        self.version = 0

    # -- offsets ---------------------------------------------------------------------------------------
    def byte_offset(self, char_offset: int) -> int:
        return len(self.text[:char_offset].encode("utf-8"))

    def token_start(self, index: int) -> int:
        """Byte offset where token ``index`` starts (``len(tokens)`` gives the end of the text)."""
        return self._ends[index - 1] if index > 0 else 0

    def token_index_at(self, byte_offset: int) -> int:
        """Index of the token that contains ``byte_offset`` (or the number of tokens at the very end)."""
        return bisect.bisect_right(self._ends, byte_offset)

    def split_at(self, char_offset: int) -> tuple[int, bytes]:
        """(tokens fully before the offset, the bytes of the token the offset cuts, up to the offset)."""
        offset = self.byte_offset(char_offset)
        index = self.token_index_at(offset)
        start = self.token_start(index)
        if index < len(self.tokens) and start < offset:
            return index, self.vocab.bytes_of[self.tokens[index]][: offset - start]
        return index, b""

    # -- edits -----------------------------------------------------------------------------------------
    def apply(self, change: TextChange) -> TokenEdit | None:
        """Apply ``change`` to the text and tokens; returns the token edit (None if tokens are unchanged)."""
        if not 0 <= change.start <= change.end <= len(self.text):
            raise ValueError(f"change [{change.start}, {change.end}) is outside the document "
                             f"(length {len(self.text)})")
        old_bytes = self.text.encode("utf-8")
        byte_start = self.byte_offset(change.start)
        byte_end = byte_start + len(self.text[change.start:change.end].encode("utf-8"))
        inserted = change.text.encode("utf-8")
        self.text = self.text[: change.start] + change.text + self.text[change.end:]
        self.version += 1
        new_bytes = old_bytes[:byte_start] + inserted + old_bytes[byte_end:]
        shift = len(inserted) - (byte_end - byte_start)

        first = max(0, self.token_index_at(byte_start) - MARGIN_TOKENS)
        last = min(len(self.tokens), self.token_index_at(max(byte_end - 1, byte_start)) + 1 + MARGIN_TOKENS)
        for _ in range(MAX_WIDENINGS):
            window = self._retokenize_window(new_bytes, first, last, shift)
            if window is not None:
                return self._splice(*window, last, shift)
            first = max(0, first - 4 * MARGIN_TOKENS)
            last = min(len(self.tokens), last + 4 * MARGIN_TOKENS)
        return self._splice(0, self.vocab.encode(self.text), len(self.tokens), shift)

    def _retokenize_window(self, new_bytes: bytes, first: int, last: int, shift: int) -> tuple[int, list[int]] | None:
        """(first, new tokens) replacing old tokens [first, last), or None if the window's edges are unstable."""
        while first > 0 and not _is_char_start(new_bytes, self.token_start(first)):
            first -= 1
        new_start = self.token_start(first)
        new_end = self.token_start(last) + shift
        if new_end < new_start or not _is_char_start(new_bytes, new_end):
            return None
        piece = new_bytes[new_start:new_end]
        tokens = self.vocab.encode(piece.decode("utf-8"))
        if self.vocab.to_bytes(tokens) != piece:
            return None
        # The window's edge tokens must be those a whole-text tokenization keeps there.
        if first > 0 and (not tokens or tokens[0] != self.tokens[first]):
            return None
        if last < len(self.tokens) and (not tokens or tokens[-1] != self.tokens[last - 1]):
            return None
        return first, tokens

    def _splice(self, first: int, window: list[int], last: int, shift: int) -> TokenEdit | None:
        """Replace old tokens [first, last) by ``window``, trimmed to the tokens that really changed."""
        old = self.tokens[first:last]
        common = min(len(old), len(window))
        prefix = 0
        while prefix < common and old[prefix] == window[prefix]:
            prefix += 1
        suffix = 0
        while suffix < common - prefix and old[-1 - suffix] == window[-1 - suffix]:
            suffix += 1
        start, stop = first + prefix, last - suffix
        inserted = window[prefix: len(window) - suffix]
        if stop == start and not inserted:
            self._ends[start:] = [end + shift for end in self._ends[start:]]
            return None
        self.tokens[start:stop] = inserted
        new_ends = list(accumulate((len(self.vocab.bytes_of[t]) for t in inserted), initial=self.token_start(start)))[1:]
        self._ends[start:] = new_ends + [end + shift for end in self._ends[stop:]]
        return TokenEdit(start=start, deleted=stop - start, inserted=tuple(inserted))
