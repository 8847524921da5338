"""How much the model prefers a candidate's new text to the old at its place, read off the warm cache.

score = log p(new text + the next FOLLOW_TOKENS tokens) − log p(old text + the same tokens), both given the
document's cached tokens before the place. A candidate at document token t (the token holding its first
character) is scored in scratch slots behind the cached prompt: the cached token t−1 is run once more at its
position, attending to slots [0, slot(t−1)), and the old and the new tokens follow it as two branches, at the
positions t, t+1, ... So the cache itself is only read (scratch stays scratch) and many candidates share one
tree-shaped forward, each node seeing the cached prefix of its own place, its lead and its branch's earlier
nodes.

Places whose tokens the cache holds in document order are scored so (SlotMap): left to right, the window
from the edit on; in a fill-in-the-middle layout, the window's part before the cursor. Left to right, every
other place (after the window, before the edit, before the window) is scored behind the window instead: its
LOCAL_TOKENS preceding tokens are run at the positions following the window, seeing all of it (the edit
included, which a place before the edit would not see in place), and the branches follow them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from kvcomplete.completion.cache.kv_store import KVStore
from kvcomplete.completion.model.runner import ModelRunner
from kvcomplete.completion.next_edits.candidates import Candidate
from kvcomplete.completion.text.mirror import TokenMirror

FOLLOW_TOKENS = 4  # tokens after the place scored with it: a change that reads well on into its context
MAX_SPAN_TOKENS = 48  # a candidate whose old or new text takes more tokens is not scored
LOCAL_TOKENS = 32  # a place scored behind the window is preceded there by this many of its own tokens


@dataclass(frozen=True, slots=True)
class SlotMap:
    """Document tokens [first_token, end_token) are cached at slots first_slot, first_slot + 1, ...; places
    outside them, and before ``edit_token``, are scored at positions from ``after_slot`` on, behind all the
    cached slots (None: they are not scored)."""

    first_token: int
    end_token: int
    first_slot: int
    after_slot: int | None = None
    edit_token: int = 0  # with after_slot, places before this token (the edit's) are scored behind it too

    def in_place(self, first: int, after: int) -> bool:
        """Whether a place of tokens [first, after) is scored where it is cached."""
        behind = self.after_slot is not None and first < self.edit_token
        return self.first_token <= first - 1 and after <= self.end_token and not behind

    def slot(self, token: int) -> int:
        return self.first_slot + token - self.first_token


@dataclass(frozen=True, slots=True)
class Spans:
    """One candidate in tokens: ``lead`` (the document tokens just before its place, run again from position
    ``position`` on, seeing the cached slots [0, ``sees``)), then the old and the new tokens after it."""

    lead: list[int]
    position: int
    sees: int
    old: list[int]
    new: list[int]

    @property
    def nodes(self) -> int:
        return len(self.lead) + len(self.old) + len(self.new)


def spans(candidate: Candidate, mirror: TokenMirror, slots: SlotMap) -> Spans | None:
    """The candidate's tokens, or None when its place can be scored neither in the window (the token before it
    and the place cached) nor after it."""
    vocab, tokens = mirror.vocab, mirror.tokens
    start, end = mirror.byte_offset(candidate.start), mirror.byte_offset(candidate.end)
    first = mirror.token_index_at(start)
    after = mirror.token_index_at(end)
    after += mirror.token_start(after) < end  # the first token starting at or after the place's end
    if first < 1 or first >= len(tokens):
        return None
    if slots.in_place(first, after):  # behind the cached token before the place, at its position
        lead, position, sees, last = [tokens[first - 1]], slots.slot(first - 1), slots.slot(first - 1), slots.end_token
    elif slots.after_slot is not None:
        lead = tokens[max(0, first - LOCAL_TOKENS): first]
        position, sees, last = slots.after_slot, slots.after_slot, len(tokens)
    else:
        return None
    follow = min(after + FOLLOW_TOKENS, last)
    data = mirror.text.encode("utf-8")
    piece = data[mirror.token_start(first): start] + candidate.new.encode("utf-8") + data[end: mirror.token_start(after)]
    try:
        new = vocab.encode(piece.decode("utf-8")) + tokens[after: follow]
    except UnicodeDecodeError:  # the place's first token starts inside a character
        return None
    old = tokens[first: follow]
    if not old or len(old) > MAX_SPAN_TOKENS or len(new) > MAX_SPAN_TOKENS:
        return None
    return Spans(lead, position, sees, old, new)


@torch.inference_mode()
def score(runner: ModelRunner, store: KVStore, batch: list[Spans]) -> list[float]:
    """log p(new) − log p(old) for each of ``batch``, in one forward into the scratch behind ``store.length``."""
    write_at = store.length
    prefix_len = min(item.sees for item in batch)
    n = sum(item.nodes for item in batch)
    tokens: list[int] = []
    positions: list[int] = []
    # visible: [n, write_at + n - prefix_len]: cached slots [prefix_len, write_at), then the new nodes
    visible = torch.zeros(n, write_at + n - prefix_len, dtype=torch.bool)
    column = write_at - prefix_len  # of the first new node
    targets: list[tuple[int, list[int], list[int]]] = []  # per candidate: last lead node, old nodes, new nodes
    for item in batch:
        lead = list(range(len(tokens), len(tokens) + len(item.lead)))
        tokens.extend(item.lead)
        positions.extend(range(item.position, item.position + len(lead)))
        for node in lead:
            visible[node, column + lead[0]: column + node + 1] = True
        branches = []
        for branch in (item.old, item.new):
            nodes = list(range(len(tokens), len(tokens) + len(branch)))
            tokens.extend(branch)
            positions.extend(range(item.position + len(lead), item.position + len(lead) + len(branch)))
            for node in nodes:
                visible[node, column + lead[0]: column + lead[-1] + 1] = True
                visible[node, column + nodes[0]: column + node + 1] = True
            branches.append(nodes)
        for node in (*lead, *branches[0], *branches[1]):
            visible[node, : item.sees - prefix_len] = True
        targets.append((lead[-1], *branches))
    logits = runner.forward(store, tokens, torch.tensor(positions), write_at, prefix_len, visible)
    logprobs = torch.log_softmax(logits, dim=-1)
    return [_branch_logprob(logprobs, tokens, root, new) - _branch_logprob(logprobs, tokens, root, old)
            for root, old, new in targets]


def _branch_logprob(logprobs: torch.Tensor, tokens: list[int], root: int, nodes: list[int]) -> float:
    """Sum of log p(each branch token | what its predecessor node saw): node i is predicted by node i−1, the
    first by the last lead node (``root``)."""
    predictors = [root, *nodes[:-1]]
    return float(logprobs[predictors, [tokens[node] for node in nodes]].sum())
