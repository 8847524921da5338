"""An n-gram model of the workspace's own tokens, for Superposed Decoding's pruning.

Superposed drafts share one model output distribution per step (the model saw a mixture of their tokens), so
what tells a good continuation of *this* draft from a bad one is the draft's own recent tokens. An n-gram model
built from the workspace's files and open documents, tokenized with the model's tokenizer, scores a candidate
against each draft's context and keeps the drafts coherent (Shen et al., 2024, "Superposed Decoding", §3).

Counts live in one plain dict for all orders, ``_grams`` (1..max_order tokens). A context's count (how often
something follows it) is its count as an n-gram minus the documents that end with it, kept in ``_tails``, so
contexts cost no second table. An edit changes only the n-grams that overlap it, so replacing a document
subtracts and adds just those, found from the common prefix and suffix of its old and new tokens.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Sequence

import numpy as np

# Interpolation weights of the orders 2..6 (contexts of 1..5 tokens): the paper's released setting
# (RAIVNLab/SuperposedDecoding params/p15_d3_mixed.json: 0.01, 0.04, 0.15, 0.18, 0.12), here normalized to sum
# to 1 so that the estimate is a probability when every order has seen the context. Orders whose context was
# never seen add nothing (as in the paper), so evidence from long contexts lifts a token far above evidence from
# a bigram alone.
PAPER_WEIGHTS = {2: 0.01, 3: 0.04, 4: 0.15, 5: 0.18, 6: 0.12}
# Probability of a token that no order has seen after this context: below any seen estimate in a workspace
# (0.02 / 1e5 for a bigram context seen 100,000 times), so it ranks unseen tokens last. The paper's code uses
# log 0 = -inf instead, plus a fixed penalty for a draft none of whose candidates was seen; a floor ranks
# unseen candidates below seen ones unless the model prefers them by a wide margin, without infinities (a
# workspace corpus is small: most candidates are unseen).
FLOOR = 1e-7


class NGramModel:
    def __init__(self, max_order: int = 6) -> None:
        if not 2 <= max_order <= max(PAPER_WEIGHTS):
            raise ValueError(f"max_order must be in [2, {max(PAPER_WEIGHTS)}], not {max_order}")
        self.max_order = max_order
        total = sum(PAPER_WEIGHTS[n] for n in range(2, max_order + 1))
        self.weights = {n: PAPER_WEIGHTS[n] / total for n in range(2, max_order + 1)}
        self._documents: dict[str, np.ndarray] = {}  # key -> [n] int64 tokens
        self._grams: dict[tuple[int, ...], int] = {}  # every n-gram of 1..max_order tokens -> count
        self._tails: dict[tuple[int, ...], int] = {}  # last 1..max_order-1 tokens of each document -> count

    def set_source(self, key: str, tokens: Sequence[int]) -> None:
        """Add or replace a document's counts; only the n-grams around the changed span are recounted."""
        old = self._documents.get(key, np.zeros(0, dtype=np.int64))
        new = np.array(tokens, dtype=np.int64)  # a copy: the caller may reuse its buffer
        start, old_end, new_end = _changed_span(old, new)
        reach = self.max_order - 1  # an n-gram overlapping the change starts at most this far before it
        lo = max(0, start - reach)
        self._count(old[lo: old_end + reach].tolist(), -1)
        self._count(new[lo: new_end + reach].tolist(), +1)
        _add(self._tails, self._tails_of(old), -1)
        _add(self._tails, self._tails_of(new), +1)
        self._documents[key] = new

    def remove_source(self, key: str) -> None:
        if key in self._documents:
            self.set_source(key, ())
            del self._documents[key]

    def logprob(self, context: Sequence[int], token: int) -> float:
        """log of Σ_n w_n · count(ctx_n + token) / count(ctx_n) over the orders whose context ctx_n (the last
        n-1 tokens) was seen, floored at FLOOR."""
        tail = tuple(int(t) for t in context[max(0, len(context) - (self.max_order - 1)):])
        token = int(token)
        p = 0.0
        for n, weight in self.weights.items():
            if len(tail) < n - 1:
                break
            ctx = tail[len(tail) - (n - 1):]
            seen = self._grams.get(ctx, 0) - self._tails.get(ctx, 0)
            if seen:
                p += weight * self._grams.get(ctx + (token,), 0) / seen
        return math.log(max(p, FLOOR))

    def __eq__(self, other: object) -> bool:
        """Same orders and the same counts (an incrementally edited model equals a fresh build)."""
        if not isinstance(other, NGramModel):
            return NotImplemented
        return (self.weights, self._grams, self._tails) == (other.weights, other._grams, other._tails)

    __hash__ = None  # mutable

    def _count(self, window: list[int], sign: int) -> None:
        """Add (sign +1) or subtract (-1) every n-gram inside ``window``; counts that reach 0 are dropped."""
        for n in range(1, self.max_order + 1):
            _add(self._grams, Counter(zip(*(window[j:] for j in range(n)))), sign)  # C-speed counting

    def _tails_of(self, tokens: np.ndarray) -> Counter:
        """The document's last 1..max_order-1 tokens: contexts that occur there have no next token."""
        ending = tokens[max(0, len(tokens) - (self.max_order - 1)):].tolist()
        return Counter(tuple(ending[len(ending) - m:]) for m in range(1, len(ending) + 1))


def _add(table: dict[tuple[int, ...], int], counts: Counter, sign: int) -> None:
    """table += sign * counts, dropping zeros (one tight loop: this is the whole cost of counting)."""
    get = table.get
    for key, count in counts.items():
        total = get(key, 0) + sign * count
        assert total >= 0, "n-gram counts went negative: a document's old tokens were not what was counted"
        if total:
            table[key] = total
        else:
            del table[key]


def _changed_span(old: np.ndarray, new: np.ndarray) -> tuple[int, int, int]:
    """(start, old_end, new_end) such that old[start:old_end] became new[start:new_end], the rest equal."""
    # old: [p], new: [q]
    shorter = min(len(old), len(new))
    differ = np.flatnonzero(old[:shorter] != new[:shorter])
    start = int(differ[0]) if differ.size else shorter
    room = shorter - start  # the common suffix may not overlap the common prefix
    differ = np.flatnonzero(old[len(old) - room:][::-1] != new[len(new) - room:][::-1])
    suffix = int(differ[0]) if differ.size else room
    return start, len(old) - suffix, len(new) - suffix
