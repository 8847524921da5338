"""Where one request's drafts come from: CopySpec for every branch at every step, and one Superposed
Decoding pass at the start that gives each of the k suggestions a continuation guess.

Implements ``decode.Drafting``. The engine owns the long-lived parts (the CopySpec sources, the n-gram
tables); this object lives for one request.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch

from completion.decode import Branch, Prompt
from completion.drafts.copyspec import CopySpec
from completion.drafts.superposed import SuperposedDrafter
from completion.vocab import Vocabulary

DRAFTS_PER_BRANCH = 3
SUPERPOSED_LENGTH = 4


class RequestDrafts:
    def __init__(self, copyspec: CopySpec | None, superposed: SuperposedDrafter | None, vocab: Vocabulary,
                 embed: Callable[[list[int]], torch.Tensor], document_key: str) -> None:
        self.copyspec, self.superposed, self.vocab = copyspec, superposed, vocab
        self.embed, self.key = embed, document_key
        self.guesses: list[tuple[int, ...]] = []  # superposed drafts, each from a first token
        self.start_at = 0  # context tokens before the guesses' first tokens

    def start(self, first_logprobs: torch.Tensor, branches: list[Branch], prompt: Prompt,
              step: Callable[[torch.Tensor, int], torch.Tensor]) -> None:
        """One superposed pass from the same first-token choice the branches were started from; ``prompt``
        ends where they split (after the tokens they all start with)."""
        self.start_at = len(prompt.context)
        if self.superposed is None or len(branches) < 2:
            return
        if prompt.healed:  # only first tokens that reproduce the healed bytes can start a branch
            allowed = torch.full_like(first_logprobs, float("-inf"))
            ids = torch.tensor(self.vocab.compatible_with(prompt.healed), dtype=torch.long)
            allowed[ids] = first_logprobs[ids]
            first_logprobs = allowed
        drafts = self.superposed.propose([prompt.context], first_logprobs, step, self.embed, SUPERPOSED_LENGTH)
        self.guesses = [draft.tokens for draft in drafts]

    def propose(self, branch: Branch, prompt: Prompt) -> list[Sequence[int]]:
        """Continuations after ``branch.tokens[-1]``: superposed guesses still consistent with the branch,
        then CopySpec's copies of what followed the same tokens elsewhere."""
        context = list(prompt.context) + branch.tokens
        own = context[self.start_at:]  # the branch's tokens since the split
        drafts: list[Sequence[int]] = [guess[len(own):] for guess in self.guesses
                                       if len(guess) > len(own) and list(guess[:len(own)]) == own]
        if self.copyspec is not None:
            drafts += [draft.tokens for draft in self.copyspec.propose(context, DRAFTS_PER_BRANCH, self.key)]
        return drafts

    def observe(self, proposed: int, accepted: int) -> None:
        if self.copyspec is not None:
            self.copyspec.observe(proposed, accepted)
