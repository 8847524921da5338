"""Which suggestions are worth cycling through, and in what order. Plain functions of text and scores.

A user cycles through alternatives to see different *code*. So whitespace does not count:
- two suggestions are the same when they differ only in whitespace, and an alternative that is, whitespace
  aside, a prefix of one already kept (or extends it) adds nothing either: ``overlaps``;
- where a suggestion starts, leading whitespace is no new text (``new_text``). At an auto-indented line
  start the cursor's token is the newline plus the editor's indentation, which the suggestion must first
  reproduce (token healing); a first token that re-spells that indentation, or indents once more, says
  nothing about the code that follows. Alternatives therefore split where the new text begins.

Order (what the user sees, docs/drafts.md): suggestion #1 is the greedy one, always; the others are ranked
by ``RANKING``, but an alternative whose first line equals #1's is shown after every one whose first line
differs, so that cycling shows a difference early.
"""

from __future__ import annotations

from typing import AnyStr, Callable, Protocol, Sequence, TypeVar


def squeeze(text: AnyStr) -> AnyStr:
    """``text`` without any whitespace: the key under which suggestions are compared."""
    return text[:0].join(text.split())


def overlaps(a: AnyStr, b: AnyStr) -> bool:
    """Whether, whitespace aside, one of ``a`` and ``b`` is a prefix of the other (equal included)."""
    a, b = squeeze(a), squeeze(b)
    return a.startswith(b) or b.startswith(a)


def new_text(generated: bytes, healed: bytes) -> bytes:
    """What ``generated`` adds past the ``healed`` bytes it must first reproduce, leading whitespace not
    counted (it only re-spells or deepens the indentation already there); empty: no new text yet."""
    return generated[len(healed):].lstrip()


def distinct(texts: Sequence[AnyStr], limit: int) -> list[int]:
    """Indices of the first ``limit`` texts, in order, that hold something besides whitespace and do not
    overlap a text kept before them."""
    kept: list[int] = []
    for index, text in enumerate(texts):
        if len(kept) == limit:
            break
        if squeeze(text) and not any(overlaps(text, texts[other]) for other in kept):
            kept.append(index)
    return kept


def starts(new_texts: Sequence[bytes], limit: int) -> list[int]:
    """Which candidate tokens start branches where suggestions split: index 0 (the greedy token: suggestion
    #1 stays greedy) always, then those whose new text is ``distinct`` from the ones kept; at most ``limit``."""
    return [0, *(index for index in distinct(new_texts, limit) if index != 0)][:limit]


class Scored(Protocol):
    """A decoded suggestion as the ranking sees it."""

    text: str
    logprob: float  # summed over its tokens
    tokens: int  # how many tokens it took
    split_logprob: float  # of the token where it left suggestion #1 (the first that added new text)


def mean_logprob(candidate: Scored) -> float:
    """Length-normalised: the sum favours short suggestions (fewer terms, each negative)."""
    return candidate.logprob / max(candidate.tokens, 1)


RANKINGS: dict[str, Callable[[Scored], float]] = {
    "total": lambda candidate: candidate.logprob,
    "mean": mean_logprob,
    "split": lambda candidate: candidate.split_logprob,
}
RANKING = "mean"  # `kvcomplete bench alternatives` measures the three on real code after edits


def first_line(text: str) -> str:
    """The first line holding something besides whitespace, whitespace removed."""
    return next((squeeze(line) for line in text.split("\n") if line.strip()), "")


S = TypeVar("S", bound=Scored)


def rank(first: Scored, others: Sequence[S], ranking: str = RANKING) -> list[S]:
    """``others`` in the order shown after ``first`` (suggestion #1): those whose first line differs from
    #1's, then those matching it, each group best first by ``RANKINGS[ranking]``."""
    score, line = RANKINGS[ranking], first_line(first.text)
    return sorted(others, key=lambda candidate: (first_line(candidate.text) == line, -score(candidate)))


def worth_showing(candidates: Sequence[S], limit: int, ranking: str = RANKING) -> list[S]:
    """What the user cycles through: #1 (``candidates[0]``, the greedy one) first, the others ranked, then
    at most ``limit`` of them that hold text and do not overlap one shown before them."""
    if not candidates:
        return []
    ordered = [candidates[0], *rank(candidates[0], candidates[1:], ranking)]
    return [ordered[index] for index in distinct([candidate.text for candidate in ordered], limit)]
