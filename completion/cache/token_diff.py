"""The token edits that turn what a cache holds into what the prompt should be.

Every change of a cached prompt — typing, a multi-place edit, a slid window, a cursor move between FIM
segments, a new context snippet — is found the same way: compare the cached tokens with the wanted ones and
apply the difference as PIE edits (encode what is new, drop what left, re-rotate what moved). The common
case (one edit: typing, backspacing) is a common prefix and suffix; anything else goes through difflib's
matcher on the differing middle, and edits separated by a few equal tokens are merged, since each PIE edit
re-rotates everything behind it.
"""

from __future__ import annotations

import difflib
from typing import Sequence

from kvcomplete.completion.text.mirror import TokenEdit

MERGE_GAP = 16  # equal runs shorter than this between two edits are re-encoded rather than kept
MIN_MATCHED = 0.5  # below this share of matched tokens, replacing the whole middle is cheaper than many edits


def diff_tokens(old: Sequence[int], new: Sequence[int]) -> list[TokenEdit]:
    """Edits turning ``old`` into ``new``, in application order (each in the coordinates the previous one
    left); none when they are equal."""
    head = _common_prefix(old, new)
    tail = _common_prefix(old[head:][::-1], new[head:][::-1])
    old_mid, new_mid = old[head: len(old) - tail], new[head: len(new) - tail]
    if not old_mid and not new_mid:
        return []
    spans = _middle_spans(old_mid, new_mid)
    edits, shift = [], head
    for old_start, old_end, new_start, new_end in spans:
        edits.append(TokenEdit(shift + old_start, old_end - old_start, tuple(new_mid[new_start:new_end])))
        shift += (new_end - new_start) - (old_end - old_start)
    return edits


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _middle_spans(old: Sequence[int], new: Sequence[int]) -> list[tuple[int, int, int, int]]:
    """(old_start, old_end, new_start, new_end) spans that differ, merged across short equal runs."""
    whole = [(0, len(old), 0, len(new))]
    if not old or not new:
        return whole
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    blocks = [block for block in matcher.get_matching_blocks() if block.size >= MERGE_GAP]
    if sum(block.size for block in blocks) < MIN_MATCHED * min(len(old), len(new)):
        return whole
    spans, old_at, new_at = [], 0, 0
    for block in blocks + [difflib.Match(len(old), len(new), 0)]:
        if block.a > old_at or block.b > new_at:
            spans.append((old_at, block.a, new_at, block.b))
        old_at, new_at = block.a + block.size, block.b + block.size
    return spans
