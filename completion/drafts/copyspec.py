"""CopySpec: draft by copying what followed earlier occurrences of the context's last tokens.

Code repeats itself (names, call patterns, whole lines), so when the γ tokens before the cursor occurred
before, the tokens that followed them there are a cheap and often right guess (Dumitru et al., 2025,
"CopySpec"). The sources are the current document, the other open documents and the daemon's own earlier
suggestions (which the user often types along, or asks for again after a small edit).

Each source is kept packed, one uint32 per token; a look-up is a ``bytes.find`` of the packed γ-gram at C
speed (keeping only hits on token boundaries), so an edit just re-packs one document: there is no index to
rebuild. Several matches give several drafts, ranked by how long a suffix of the context they match, then by
how near they are to the cursor, then by how often their continuation occurs.
"""

from __future__ import annotations

from array import array
from collections import deque
from dataclasses import dataclass
from typing import Iterator, Sequence

from kvcomplete.completion.drafts.base import Draft

MATCH_CAP = 32  # matched suffixes are measured up to this many tokens; longer ones rank alike
EMA_DECAY = 0.7  # weight of the past in the running target copy length (adapts within a few verifications)
# Nearness tiers, best first: the current document before the cursor, after it, past suggestions, others.
BEFORE, AFTER, SUGGESTION, OTHER = range(4)
ITEM = array("I").itemsize
assert ITEM == 4, "array('I') must hold 32-bit token ids"


@dataclass(frozen=True, slots=True)
class _Source:
    tokens: array  # 'I': one item per token
    packed: bytes  # tokens.tobytes(), searched with bytes.find

    @classmethod
    def of(cls, tokens: Sequence[int]) -> _Source:
        packed = array("I", tokens)
        return cls(packed, packed.tobytes())


@dataclass(slots=True)
class _Candidate:
    """One distinct continuation: its best occurrence's rank and how many occurrences propose it."""

    rank: tuple[int, int, int]  # (matched suffix length, -tier, -distance): larger is better
    count: int = 1

    def absorb(self, other: _Candidate) -> None:
        self.rank = max(self.rank, other.rank)
        self.count += other.count


class CopySpec:
    def __init__(self, gamma: int = 3, max_copy: int = 16, history: int = 64) -> None:
        if gamma < 1 or max_copy < 2 or history < 0:
            raise ValueError(f"CopySpec needs gamma >= 1, max_copy >= 2, history >= 0 "
                             f"(got {gamma}, {max_copy}, {history})")
        self.gamma, self.max_copy = gamma, max_copy
        self._documents: dict[str, _Source] = {}
        self._suggestions: deque[_Source] = deque(maxlen=history)  # newest last
        self._target = max_copy / 2  # running target copy length, adapted by observe()

    @property
    def copy_length(self) -> int:
        """How many tokens a draft copies now: the running target, clamped to [2, max_copy]."""
        return max(2, min(self.max_copy, round(self._target)))

    def set_source(self, key: str, tokens: Sequence[int]) -> None:
        """A document's current tokens (after each edit): one C-speed pack, 0.1-0.4 ms per 10k tokens."""
        self._documents[key] = _Source.of(tokens)

    def remove_source(self, key: str) -> None:
        self._documents.pop(key, None)

    def add_suggestion(self, tokens: Sequence[int]) -> None:
        """An earlier completion; include a few context tokens before it so that matches can start there."""
        if len(tokens):
            self._suggestions.append(_Source.of(tokens))

    def observe(self, proposed: int, accepted: int) -> None:
        """Verification feedback on a copied draft: aim one past what is accepted, double when all was."""
        if proposed <= 0:
            return
        target = 2 * proposed if accepted >= proposed else accepted + 1
        self._target = EMA_DECAY * self._target + (1 - EMA_DECAY) * target
        self._target = max(2.0, min(float(self.max_copy), self._target))

    def propose(self, context: Sequence[int], count: int, key: str | None = None) -> list[Draft]:
        """Up to ``count`` distinct continuations of ``context`` copied from matches of its last γ tokens.

        ``key`` names the document the context comes from (its prefix up to the cursor): matches there rank
        by nearness to the cursor, and the context's own occurrence (same tokens at the same place, checked
        over the last MATCH_CAP tokens) is skipped; text after the cursor may still be copied.
        """
        if count <= 0 or len(context) < self.gamma:
            return []
        tail = [int(t) for t in context[max(0, len(context) - MATCH_CAP):]]
        pattern = array("I", tail[-self.gamma:]).tobytes()
        cursor, length = len(context), self.copy_length
        found: dict[tuple[int, ...], _Candidate] = {}
        for source, tier, age in self._haystacks(key):
            for end in _ends(source.packed, pattern):
                matched = _suffix_length(source.tokens, end, tail, self.gamma)
                if tier == BEFORE:
                    if end == cursor and matched == len(tail):
                        continue  # the context itself
                    place = (BEFORE, cursor - end) if end <= cursor else (AFTER, end - cursor)
                else:
                    place = (tier, age)
                continuation = tuple(source.tokens[end: end + length])
                if continuation:
                    candidate = _Candidate((matched, -place[0], -place[1]))
                    if continuation in found:
                        found[continuation].absorb(candidate)
                    else:
                        found[continuation] = candidate
        _merge_prefixes(found)
        best = sorted(found.items(), key=lambda item: (item[1].rank, item[1].count), reverse=True)[:count]
        return [Draft(tokens, _score(candidate.rank), "copy") for tokens, candidate in best]

    def _haystacks(self, key: str | None) -> Iterator[tuple[_Source, int, int]]:
        """(source, tier, age) for every source: the current document (tier BEFORE: placed by the caller),
        the past suggestions newest first, then the other documents."""
        if key in self._documents:
            yield self._documents[key], BEFORE, 0
        for age, suggestion in enumerate(reversed(self._suggestions)):
            yield suggestion, SUGGESTION, age
        for name, source in self._documents.items():
            if name != key:
                yield source, OTHER, 0


def _ends(packed: bytes, pattern: bytes) -> Iterator[int]:
    """Token index just past each occurrence of ``pattern`` in ``packed`` that starts on a token boundary."""
    at = packed.find(pattern)
    while at >= 0:
        if at % ITEM == 0:
            yield (at + len(pattern)) // ITEM
        at = packed.find(pattern, at + 1)


def _suffix_length(tokens: array, end: int, tail: list[int], known: int) -> int:
    """How many tokens before ``end`` equal the end of ``tail`` (the last ``known`` already do)."""
    matched, limit = known, min(len(tail), end)
    while matched < limit and tokens[end - matched - 1] == tail[-matched - 1]:
        matched += 1
    return matched


def _merge_prefixes(found: dict[tuple[int, ...], _Candidate]) -> None:
    """Fold each continuation that is a prefix of a longer one into it (shorter ones end at a source's end)."""
    full = max((len(c) for c in found), default=0)
    for short in sorted((c for c in found if len(c) < full), key=len):
        longer = next((c for c in found if len(c) > len(short) and c[: len(short)] == short), None)
        if longer is not None:
            found[longer].absorb(found.pop(short))


def _score(rank: tuple[int, int, int]) -> float:
    """Matched suffix length plus a nearness bonus below 1, so longer matches always rank first.

    Tier t earns (3 - t) / 4 and nearness within it up to 1/8 more; ties in score are broken by frequency in
    the draft order. Not a probability: comparable between copy drafts only.
    """
    matched, tier, distance = rank[0], -rank[1], -rank[2]
    return matched + (OTHER - tier) / 4 + 1 / (4 * (2 + distance))
