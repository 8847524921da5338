"""Per-document KV cache of the cached prompt (any layout), brought to each wanted prompt with PIE edits.

``sync`` diffs what the cache holds with the prompt a request needs (token_diff.py). Each edit (start,
deleted, inserted) becomes: keep slots [0, start) as they are; encode the inserted tokens at their true
positions attending to that prefix; move the suffix's K/V behind them and re-rotate its keys from their
original rotation to their new positions (one rotation per moved key). The suffix's deeper layers never saw
the edit: those tokens are *stale*, counted per slot, and re-encoded by idle-time work (completion/idle.py):
any before the cursor first, the rest once there are more than the stale budget.
Modes: PIE (the product), REENCODE (re-encode from the edit on: exactly a fresh encode, the quality
reference) and NAIVE (move K/V without re-rotation: what PIE improves on, for measurements).
"""

from __future__ import annotations

import enum
from typing import Sequence

import torch

from kvcomplete.completion.cache.token_diff import diff_tokens
from kvcomplete.completion.model.runner import ModelRunner
from kvcomplete.completion.text.mirror import TokenEdit
from kvcomplete.kernels.rope_shift import rope_shift


class EditMode(enum.Enum):
    PIE = "pie"
    REENCODE = "reencode"
    NAIVE = "naive"


class Session:
    @torch.inference_mode()
    def __init__(self, runner: ModelRunner, tokens: Sequence[int] = (), mode: EditMode = EditMode.PIE) -> None:
        self.runner = runner
        self.mode = mode
        self.tokens: list[int] = []
        self.stale = torch.zeros(0, dtype=torch.bool)
        self.store = runner.new_store(max(256, len(tokens) + 64))
        self._encode_tail(0, list(tokens))

    # -- state -----------------------------------------------------------------------------------------
    @property
    def length(self) -> int:
        return len(self.tokens)

    def stale_count(self, upto: int | None = None) -> int:
        return int(self.stale[: self.length if upto is None else upto].sum())

    def nbytes(self) -> int:
        return self.store.nbytes()

    def _encode_tail(self, start: int, tokens: list[int]) -> None:
        """Re-encode everything from ``start`` as ``tokens``: exact, fresh K/V for those slots."""
        self.store.reserve(start + len(tokens) + 1)
        self.store.length = start
        self.runner.encode(self.store, tokens, start)
        self.tokens[start:] = tokens
        self._resize_stale()
        self.stale[start:] = False

    def _resize_stale(self) -> None:
        stale = torch.zeros(self.store.capacity, dtype=torch.bool)
        kept = min(len(self.stale), len(stale))
        stale[:kept] = self.stale[:kept]
        self.stale = stale

    # -- edits -----------------------------------------------------------------------------------------
    def sync(self, target: Sequence[int], limit: int | None = None) -> int:
        """Make the cache hold ``target``: the difference from the cached tokens, applied as edits.

        With ``limit`` (background work in chunks) it stops once about ``limit`` tokens were encoded, an
        edit's insertion cut there; calling again continues. Returns the number of edits applied.
        """
        applied, encoded = 0, 0
        for edit in diff_tokens(self.tokens, target):
            if limit is not None and encoded + len(edit.inserted) > limit:
                self.apply(TokenEdit(edit.start, edit.deleted, edit.inserted[: max(1, limit - encoded)]))
                return applied + 1
            self.apply(edit)
            applied, encoded = applied + 1, encoded + len(edit.inserted)
        return applied

    @torch.inference_mode()
    def apply(self, edit: TokenEdit) -> None:
        """Bring the cache in line with ``edit`` (token indices of the text before the edit)."""
        start, end = edit.start, edit.start + edit.deleted
        assert 0 <= start <= end <= self.length, (edit, self.length)
        if self.mode is EditMode.REENCODE:
            self._encode_tail(start, list(edit.inserted) + self.tokens[end:])
            return
        suffix = self.length - end
        new_end = start + len(edit.inserted)
        store = self.store
        store.reserve(new_end + suffix + 1)
        self._resize_stale()
        # Park the suffix past the inserted tokens first, then encode the insert in front of it.
        store.move(end, new_end, suffix, keys=self.mode is EditMode.NAIVE)
        store.length = start
        if edit.inserted:
            self.runner.encode(store, list(edit.inserted), start)
        if suffix and new_end != end:
            self._move_positions(new_end, suffix)
        store.length = new_end + suffix
        self.tokens[start:end] = edit.inserted
        self.stale[new_end: new_end + suffix] = True
        self.stale[start:new_end] = False

    def _move_positions(self, first: int, count: int) -> None:
        """Slots [first, first+count) now sit at positions equal to their slot index: fix their keys."""
        store = self.store
        slots = slice(first, first + count)
        if self.mode is EditMode.NAIVE:
            return
        store.keys[:, :, slots] = store.original_keys[:, :, slots]
        rotary = self.runner.loaded.rotary
        target = torch.arange(first, first + count, device=store.encoded_at.device)
        for layers, inv_freq in rotary.layer_runs:
            rope_shift(store.keys[layers, :, slots], store.encoded_at[slots], target, inv_freq, rotary.rotary_dim,
                       backend=self.runner.kernel_backend)

    @torch.inference_mode()
    def refresh(self, limit: int | None = None) -> int:
        """Re-encode from the first stale token on (at most ``limit`` tokens: a chunk of background work);
        returns how many tokens were re-encoded. Tokens after a chunk stay stale until their turn."""
        stale = torch.nonzero(self.stale[: self.length])
        if len(stale) == 0:
            return 0
        first = int(stale[0])
        count = self.length - first if limit is None else min(limit, self.length - first)
        length = self.length
        self.runner.encode(self.store, self.tokens[first: first + count], first)
        self.store.length = length
        self.stale[first: first + count] = False
        return count
