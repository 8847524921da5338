"""The tokenizer seen as bytes: every token id's exact byte string, so token runs concatenate losslessly.

Decoding a window of tokens on its own must give exactly the bytes those tokens stand for, whatever
surrounds them (the document mirror and token healing rely on it). Byte-level BPE (GPT-2, Llama 3, Qwen2,
StarCoder2, SmolLM2) and SentencePiece with byte fallback (Llama 2, Mistral) are read from the vocabulary;
anything else falls back to decoding single tokens.
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache

_BYTE_FALLBACK = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


@lru_cache(maxsize=1)
def _byte_level_decoder() -> dict[str, int]:
    """GPT-2's printable-unicode stand-ins for the 256 byte values, inverted."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1))
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return {chr(code): byte for byte, code in zip(printable, codes)}


def _uses_byte_level(tokenizer) -> bool:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    return backend is not None and "ByteLevel" in repr(backend.decoder)


class Vocabulary:
    """Token ids ⇄ bytes for one tokenizer; special tokens stand for no document text."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer
        # Added tokens are special unless marked otherwise: Gemma adds thousands of ordinary ones ("\n", runs
        # of spaces, HTML tags) that are document text like any other token.
        added = getattr(tokenizer, "added_tokens_decoder", {}) or {}
        self.special_ids = frozenset(tokenizer.all_special_ids) | frozenset(
            token_id for token_id, token in added.items() if getattr(token, "special", True))
        pieces = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
        self.bytes_of: list[bytes] = [self._piece_bytes(i, piece) for i, piece in enumerate(pieces)]
        # Sorted (bytes, id) of ordinary tokens, for "tokens that start with these bytes" look-ups.
        ordinary = [(b, i) for i, b in enumerate(self.bytes_of) if b and i not in self.special_ids]
        ordinary.sort()
        self._sorted_bytes = [b for b, _ in ordinary]
        self._sorted_ids = [i for _, i in ordinary]
        self._id_of_bytes = {b: i for b, i in ordinary}

    def _piece_bytes(self, token_id: int, piece: str | None) -> bytes:
        if piece is None or token_id in self.special_ids:
            return b""
        if _uses_byte_level(self.tokenizer):
            table = _byte_level_decoder()
            if all(ch in table for ch in piece):
                return bytes(table[ch] for ch in piece)
        fallback = _BYTE_FALLBACK.match(piece)
        if fallback:
            return bytes([int(fallback.group(1), 16)])
        if "▁" in piece:
            return piece.replace("▁", " ").encode("utf-8")
        return self.tokenizer.decode([token_id]).encode("utf-8")

    def __len__(self) -> int:
        return len(self.bytes_of)

    def encode(self, text: str) -> list[int]:
        """Token ids for ``text`` as document content: no added BOS, special-token strings kept literal."""
        return self.tokenizer(text, add_special_tokens=False, split_special_tokens=True)["input_ids"]

    def to_bytes(self, ids) -> bytes:
        return b"".join(self.bytes_of[i] for i in ids)

    def decode(self, ids) -> str:
        """Text of ``ids``; a UTF-8 character cut at the end is left out rather than garbled."""
        data = self.to_bytes(ids)
        return data.decode("utf-8", errors="ignore")

    def compatible_with(self, pending: bytes) -> list[int]:
        """Ordinary tokens that agree with ``pending`` bytes: a prefix of it, or starting with all of it.

        Token healing constrains the first generated tokens to those, until ``pending`` is reproduced.
        """
        ids = [self._id_of_bytes[pending[:n]] for n in range(1, len(pending)) if pending[:n] in self._id_of_bytes]
        start = bisect.bisect_left(self._sorted_bytes, pending)
        for index in range(start, len(self._sorted_bytes)):
            if not self._sorted_bytes[index].startswith(pending):
                break
            ids.append(self._sorted_ids[index])
        return ids
