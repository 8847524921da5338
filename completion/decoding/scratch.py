"""One request's scratch slots in the document's store: which branch owns each, and forwards that respect it.

Every forward of a decoding (the prompt's last token again, the shared tokens, each tree, each superposed
step) writes behind the cached prompt, into scratch. Each scratch slot has an owner: a branch (seen only by
that branch's later nodes), SHARED (seen by every branch), SUPERPOSED (seen only by the current drafting
pass) or DEAD (free, overwritten by the next forward). The document's cache itself is never written: its
length stays as it was (scratch stays scratch).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import torch

from kvcomplete.completion.cache.kv_store import KVStore
from kvcomplete.completion.drafts.budget import SpeculationBudget
from kvcomplete.completion.model.runner import ModelRunner

if TYPE_CHECKING:
    from kvcomplete.completion.prompt.builder import Prompt

SHARED = -1  # scratch slot every branch sees (the prompt's re-run last token, the tokens all branches share)
DEAD = -2  # scratch slot nobody sees any more (rejected tree nodes, finished superposed steps)
SUPERPOSED = -3  # scratch slot seen only by the superposed-decoding steps of the current drafting pass


class Cancelled(Exception):
    """The request was cancelled or superseded at a step boundary."""


@dataclass(slots=True)
class DecodeStats:
    forwards: int = 0
    draft_tokens_proposed: int = 0
    draft_tokens_accepted: int = 0


class Scratch:
    """One request's scratch: which branch owns each scratch slot, and forwards that respect it.

    Invariant: slots [first_slot, first_slot + len(owners)) are in use; DEAD ones only ever trail the list,
    so the next forward overwrites them.
    """

    def __init__(self, runner: ModelRunner, store: KVStore, prompt: Prompt, cancelled: Callable[[], bool],
                 budget: SpeculationBudget | None) -> None:
        self.runner, self.store, self.prompt = runner, store, prompt
        self.cancelled, self.budget = cancelled, budget
        self.first_slot = store.length  # first scratch slot
        self.owners: list[int] = []
        self.last_write_at = self.first_slot
        self.stats = DecodeStats()

    def forward(self, tokens: list[int], positions: list[int], node_owners: list[int], among: torch.Tensor,
                embeds: torch.Tensor | None = None, new_owner: int = DEAD) -> torch.Tensor:
        """Log-probabilities [n, vocab] for n new scratch nodes. Node i sees the prompt, the scratch slots
        owned by ``node_owners[i]`` or SHARED, and the new nodes ``among[i]`` [n] allows."""
        if self.cancelled():
            raise Cancelled()
        while self.owners and self.owners[-1] == DEAD:
            self.owners.pop()
        n = len(positions)
        write_at = self.last_write_at = self.first_slot + len(self.owners)
        owner = torch.tensor(self.owners, dtype=torch.long)
        rows = torch.tensor(node_owners)[:, None]
        hidden = torch.zeros(n, self.first_slot - self.prompt.prefix_len, dtype=torch.bool)
        visible = torch.cat((hidden, (owner[None, :] == rows) | (owner[None, :] == SHARED), among), dim=1)
        started = time.perf_counter()
        logits = self.runner.forward(self.store, tokens, torch.tensor(positions), write_at,
                                     self.prompt.prefix_len, visible, embeds=embeds)
        if self.budget is not None and embeds is None:
            self.budget.record_forward(n, (time.perf_counter() - started) * 1000)
        self.owners.extend([new_owner] * n)
        self.stats.forwards += 1
        return torch.log_softmax(logits, dim=-1)

    def start(self) -> torch.Tensor:
        """Run the prompt's last token once more, into a SHARED scratch slot every branch sees; returns
        the next-token log-probabilities [vocab] at the cursor."""
        return self.shared(self.prompt.last_token, self.prompt.last_position)

    def shared(self, token: int, position: int) -> torch.Tensor:
        """Run ``token`` at ``position`` into a SHARED scratch slot every branch sees (the prompt's last
        token, or one all suggestions start with); returns the log-probabilities [vocab] after it."""
        logprobs = self.forward([token], [position], [SHARED], torch.ones(1, 1, dtype=torch.bool))
        self.keep([0], [SHARED])
        return logprobs[0]

    def keep(self, nodes: list[int], owner_of: list[int]) -> None:
        """Keep the K/V of ``nodes`` (ascending indices into the last forward) for their owners, compacted
        to the front of that forward's slots; the other nodes of that forward become free."""
        start = self.last_write_at
        if nodes:
            source = torch.tensor(nodes, device=self.store.keys.device) + start
            for tensor in (self.store.keys, self.store.values):
                tensor[:, :, start: start + len(nodes)] = tensor[:, :, source]
        self.owners[start - self.first_slot:] = [owner_of[node] for node in nodes]

    def superposed_step(self, embedding: torch.Tensor, depth: int) -> torch.Tensor:
        """One Superposed Decoding step: ``embedding`` [hidden] at the cursor + depth; it sees the prompt
        and the earlier steps of this drafting pass. Returns log-probabilities [vocab]."""
        position = self.prompt.last_position + 1 + depth
        among = torch.ones(1, 1, dtype=torch.bool)
        return self.forward([0], [position], [SUPERPOSED], among, embeds=embedding.view(1, -1),
                            new_owner=SUPERPOSED)[0]

    def end_superposed(self) -> None:
        """The drafting pass is over: its scratch slots are free again."""
        self.owners = [DEAD if owner == SUPERPOSED else owner for owner in self.owners]
