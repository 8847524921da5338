"""Greedy decoding of k suggestions in lockstep: one forward per step for all of them.

The request's prompt is the document's tokens before the cursor (backed off for token healing). Its last
token is run once more into scratch to get the next-token logits; the k best first tokens start k branches,
each continued greedily. Every branch's scratch token sees the prompt and its own earlier tokens only, so
branch #1 is exactly plain greedy decoding. Nothing here is committed: the store's length is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

from completion.kv_store import KVStore
from completion.runner import ModelRunner
from completion.stops import StopRule
from completion.vocab import Vocabulary

SHARED = -1  # owner of the scratch slot every branch sees (the prompt's re-run last token)


class Cancelled(Exception):
    """The request was cancelled or superseded at a step boundary."""


@dataclass(slots=True)
class Branch:
    """One suggestion being generated; ``pending`` are healed bytes it must still reproduce."""

    index: int
    pending: bytes
    tokens: list[int] = field(default_factory=list)
    logprob: float = 0.0
    done: bool = False
    text: str = ""


@dataclass(frozen=True, slots=True)
class Prompt:
    """The prompt: slots [0, prefix_len) of the store, then ``last_token`` at ``last_position``."""

    prefix_len: int
    last_token: int
    last_position: int
    healed: bytes  # bytes before the cursor that the suggestion must start by reproducing


def choose(logprobs: torch.Tensor, vocab: Vocabulary, pending: bytes, count: int) -> list[int]:
    """The ``count`` most likely next tokens; while healing, only tokens that agree with ``pending``."""
    if pending:
        allowed = torch.tensor(vocab.compatible_with(pending), dtype=torch.long, device=logprobs.device)
        best = logprobs[allowed].topk(min(count, len(allowed))).indices
        return allowed[best].tolist()
    return logprobs.topk(count).indices.tolist()


def decode(runner: ModelRunner, store: KVStore, prompt: Prompt, vocab: Vocabulary, stop: StopRule, k: int,
           max_tokens: int, cancelled: Callable[[], bool] = lambda: False) -> list[Branch]:
    """Up to ``k`` suggestions (branch 0 = greedy), each ending by ``stop``, EOS or ``max_tokens``."""
    scratch = store.length
    owners: list[int] = []

    def step(tokens: list[int], positions: list[int], owner_ids: list[int]) -> torch.Tensor:
        if cancelled():
            raise Cancelled()
        write_at = scratch + len(owners)
        owners.extend(owner_ids)
        owner = torch.tensor(owners)
        rows = torch.tensor(owner_ids)[:, None]
        hidden = torch.zeros(len(tokens), scratch - prompt.prefix_len, dtype=torch.bool)
        visible = torch.cat((hidden, (owner[None, :] == rows) | (owner[None, :] == SHARED)), dim=1)
        logits = runner.forward(store, tokens, torch.tensor(positions), write_at, prompt.prefix_len, visible)
        return torch.log_softmax(logits, dim=-1)

    first = step([prompt.last_token], [prompt.last_position], [SHARED])[0]
    starts = choose(first, vocab, prompt.healed, k)
    branches = [Branch(index=i, pending=prompt.healed) for i in range(len(starts))]
    for branch, token in zip(branches, starts):
        _extend(branch, token, float(first[token]), vocab, stop, prompt.healed, max_tokens)
    while active := [b for b in branches if not b.done]:
        logprobs = step([b.tokens[-1] for b in active],
                        [prompt.last_position + len(b.tokens) for b in active], [b.index for b in active])
        for branch, row in zip(active, logprobs):
            token = choose(row, vocab, branch.pending, 1)[0]
            _extend(branch, token, float(row[token]), vocab, stop, prompt.healed, max_tokens)
    return branches


def _extend(branch: Branch, token: int, logprob: float, vocab: Vocabulary, stop: StopRule, healed: bytes,
            max_tokens: int) -> None:
    """Append ``token`` and decide whether the branch is finished."""
    branch.tokens.append(token)
    branch.logprob += logprob
    piece = vocab.bytes_of[token]
    branch.pending = branch.pending[len(piece):] if len(piece) < len(branch.pending) else b""
    if token in vocab.special_ids:  # EOS and friends: not document text
        branch.tokens.pop()
        branch.done = True
    generated = vocab.to_bytes(branch.tokens)
    text = generated[len(healed):].decode("utf-8", errors="ignore") if not branch.pending else ""
    end = stop.end_of(text)
    branch.text = stop.finish(text if end is None else text[:end])
    branch.done = branch.done or end is not None or len(branch.tokens) >= max_tokens
