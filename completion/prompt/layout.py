"""Prompt layouts: which tokens a document's KV session caches, in which order.

Left-to-right caches the document as it is; a completion reads the part before the cursor, so the cursor
can move for free. A fill-in-the-middle model also wants the text *after* the cursor, marked with its FIM
tokens, and the session then caches that whole prompt:

    PSM  <fim_prefix> before <fim_suffix> after <fim_middle>   → the suggestion follows <fim_middle>
    SPM  <fim_prefix> <fim_suffix> after <fim_middle> before   → the suggestion follows ``before``

(SPM as StarCoder was trained on it, the "SPM variant 2" of Bavarian et al. 2022.) A FIM prompt changes
with the cursor, so it is re-derived per request (completion/prompt/builder.py) and diffed against what the session
holds (completion/cache/token_diff.py); each changed stretch becomes one PIE edit. Typing at the cursor only
appends to ``before``: in SPM that is the end of the prompt, so nothing moves and nothing goes stale, while in PSM every keystroke moves (re-rotates) the whole ``after`` and
leaves it stale. SPM pays on a cursor move instead: ``before`` then sits behind a changed ``after`` and
goes stale. docs/benchmarks.md has the measured costs.
"""

from __future__ import annotations

import enum
from typing import Sequence

from kvcomplete.completion.model.spec import FimTokens

# Families whose published models were trained on SPM as well as PSM (StarCoder, StarCoder2).
SPM_FAMILIES = ("starcoder2", "gpt_bigcode")

Segments = tuple[tuple[int, ...], ...]


class Layout(enum.Enum):
    LEFT_TO_RIGHT = "ltr"
    PSM = "psm"
    SPM = "spm"


def choose_layout(setting: str, fim: FimTokens | None, family: str) -> Layout:
    """The layout for ``setting`` (auto: SPM for families trained on it, PSM for other FIM models, else
    left-to-right). Asking for a FIM layout without FIM tokens is an error, not a silent fallback."""
    if setting == "auto":
        if fim is None:
            return Layout.LEFT_TO_RIGHT
        return Layout.SPM if family in SPM_FAMILIES else Layout.PSM
    layout = Layout(setting)
    if layout is not Layout.LEFT_TO_RIGHT and fim is None:
        raise ValueError(f"fimLayout {setting!r} needs a model whose tokenizer has FIM tokens; this one has none")
    return layout


def fim_segments(layout: Layout, fim: FimTokens, before: Sequence[int], after: Sequence[int]) -> Segments:
    """The FIM prompt for text ``before`` and ``after`` the cursor, as segments (markers are their own)."""
    before, after = tuple(before), tuple(after)
    if layout is Layout.PSM:
        return (fim.prefix,), before, (fim.suffix,), after, (fim.middle,)
    if layout is Layout.SPM:
        return (fim.prefix, fim.suffix), after, (fim.middle,), before
    raise ValueError(f"{layout} is not a fill-in-the-middle layout")


def flatten(segments: Segments) -> list[int]:
    return [token for segment in segments for token in segment]
