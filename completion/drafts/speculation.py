"""Where one request's drafts come from: CopySpec at every step, and one Superposed Decoding pass at the
start that guesses a continuation of each of the k most likely first tokens. The decoding asks for drafts
for suggestion #1 only (completion/decoding/decoding.py), which takes the guess from its first token.

Implements ``decode.Drafting``. The engine owns the long-lived parts (the CopySpec sources, the n-gram
tables, the SuperposedValue); this object lives for one request.

The superposed pass costs SUPERPOSED_LENGTH - 1 one-token forwards before the first step, and its guesses
save steps only where suggestion #1 takes them: #1's length sets the number of steps (the alternatives end
soon after it, completion/decoding/decoding.py), and each of its tokens a guess had right saves at most one tree step.
On a CPU, on standard-library code, that did not pay (bench speculation, k = 4: 17 of 118 guessed tokens
accepted, requests 0.86x plain's speed), while on repetitive code it can. So SuperposedValue keeps the
moving average of #1's tokens its guess had right, and the pass runs while that many k-root steps cost at
least the pass, otherwise once every PROBE_EVERY requests, to notice when the code starts to suit it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from kvcomplete.completion.decoding.decoding import Branch
from kvcomplete.completion.drafts.budget import SMOOTHING
from kvcomplete.completion.drafts.copyspec import CopySpec
from kvcomplete.completion.drafts.superposed import SuperposedDrafter
from kvcomplete.completion.prompt.builder import Prompt
from kvcomplete.completion.text.vocab import Vocabulary

DRAFTS_PER_BRANCH = 3
SUPERPOSED_LENGTH = 4
PROBE_EVERY = 16  # requests without the pass, while it does not pay, before it runs again to re-measure


@dataclass(slots=True)
class SuperposedValue:
    """Whether a request's superposed pass is worth its forwards, from what earlier passes guessed right."""

    guessed: float = SUPERPOSED_LENGTH - 1  # moving average of #1's tokens after its first guessed right
    skipped: int = 0  # requests since the last pass

    def wanted(self, pass_ms: float, step_ms: float) -> bool:
        """Run the pass in this request? ``pass_ms``: its forwards' cost; ``step_ms``: a tree step's."""
        if self.guessed * step_ms >= pass_ms or self.skipped >= PROBE_EVERY:
            self.skipped = 0
            return True
        self.skipped += 1
        return False

    def record(self, guessed: int) -> None:
        self.guessed += SMOOTHING * (guessed - self.guessed)


class RequestDrafts:
    def __init__(self, copyspec: CopySpec | None, superposed: SuperposedDrafter | None, vocab: Vocabulary,
                 embed: Callable[[list[int]], torch.Tensor], document_key: str,
                 value: SuperposedValue | None = None) -> None:
        """``value``: told how the pass did when the request finishes (``finish``)."""
        self.copyspec, self.superposed, self.vocab, self.value = copyspec, superposed, vocab, value
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

    def finish(self, first: Branch, prompt: Prompt) -> None:
        """The request is over: tell ``value`` how many of suggestion #1's tokens after its first the
        superposed guess from the same first token had right (nothing when no pass ran)."""
        if self.value is None or not self.guesses:
            return
        own = (list(prompt.context) + first.tokens)[self.start_at:]
        guess = next((guess for guess in self.guesses if guess[:1] == tuple(own[:1])), ())
        right = 0
        while right + 1 < min(len(guess), len(own)) and guess[right + 1] == own[right + 1]:
            right += 1
        self.value.record(right)

    def observe(self, proposed: int, accepted: int) -> None:
        if self.copyspec is not None:
            self.copyspec.observe(proposed, accepted)
