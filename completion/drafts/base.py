"""What every drafter returns: a proposed continuation of the context, with a score to rank it by.

Drafts are only guesses for the verifier (DESIGN.md invariant 4): a wrong draft costs tree nodes, never
correctness, so a drafter's score only has to order its own drafts well.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Draft:
    tokens: tuple[int, ...]  # proposed continuation, right after the context
    score: float  # log-probability-like; higher is better; comparable within one drafter
    source: str  # "copy" | "superposed"
