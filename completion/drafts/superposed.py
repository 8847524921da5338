"""Superposed Decoding: k drafts for the price of one forward per step (Shen et al., 2024).

Instead of one forward per draft, the model is fed the probability-weighted sum of the k drafts' newest token
embeddings; the paper observes that its single output distribution then behaves much like a mixture of the k
drafts' next-token distributions. Each draft is then extended by the top-k tokens of that one distribution (k×k candidates), each
candidate scored by interpolating the model's log-probability with an n-gram log-probability of *that draft's*
context — the n-gram is what tells the drafts apart — and the best are kept.

The drafter never touches a KV cache: the engine hands it ``step`` (one forward of an embedding at the next
scratch position, discarded after drafting) and ``embed``.

One departure from the paper, made for the engine: the paper keeps the k best of the k×k candidates overall;
here every draft stays rooted at its own one of the top-k first tokens (one per suggestion the engine decodes),
so each step keeps the best candidate of each root. With α = 0 and k = 1 this is exactly greedy decoding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

from kvcomplete.completion.drafts.base import Draft
from kvcomplete.completion.drafts.ngram import NGramModel

# The paper's released setting (RAIVNLab/SuperposedDecoding params/p15_d3_mixed.json, k = 3 drafts). The low
# temperature sharpens the model's distribution so that its log-probabilities dominate unless the top
# candidates are close, where the n-gram decides; it also makes the superposition weights (a softmax of the
# drafts' scores) favour the leading draft, which keeps the mixed input close to a real token's embedding.
ALPHA = 0.54  # weight of the n-gram log-probability in each token's score
TEMPERATURE = 0.06  # applied to the model's log-probabilities before restricting them to the top k


@dataclass(slots=True)
class _Branch:
    history: list[int]  # the last tokens of the context and then the draft, for the n-gram
    tokens: list[int] = field(default_factory=list)
    score: float = 0.0


class SuperposedDrafter:
    def __init__(self, ngram: NGramModel, k: int = 3, alpha: float = ALPHA, temperature: float = TEMPERATURE):
        if k < 1 or not 0.0 <= alpha <= 1.0 or temperature <= 0.0:
            raise ValueError(f"superposed decoding needs k >= 1, alpha in [0, 1], temperature > 0 "
                             f"(got {k}, {alpha}, {temperature})")
        self.ngram, self.k, self.alpha, self.temperature = ngram, k, alpha, temperature

    def propose(self, contexts: list[Sequence[int]], first_logprobs: torch.Tensor,
                step: Callable[[torch.Tensor, int], torch.Tensor], embed: Callable[[list[int]], torch.Tensor],
                length: int) -> list[Draft]:
        """k drafts of ``length`` tokens, one rooted at each of the k most likely first tokens; best first.

        Fewer when fewer than k first tokens are allowed (the engine masks the others to -inf when healing).
        contexts: one token history (all k drafts share it) or k (the i-th for the i-th root), used only
        for the n-gram. first_logprobs: [vocab] at the cursor. step(embedding [hidden], depth) -> [vocab]
        log-softmax after feeding ``embedding`` at position cursor + depth. embed(tokens) -> [n, hidden].
        Costs length - 1 calls of ``step``.
        """
        assert first_logprobs.dim() == 1, first_logprobs.shape
        assert len(contexts) in (1, self.k), f"{len(contexts)} contexts for k = {self.k}"
        if length <= 0:
            return []
        keep = self.ngram.max_order - 1
        roots = int(first_logprobs.topk(self.k).values.isfinite().sum())  # tokens masked to -inf root nothing
        branches = [_Branch(history=[int(t) for t in contexts[i % len(contexts)][-keep:]]) for i in range(roots)]
        self._extend(branches, first_logprobs, rooted=True)
        for depth in range(length - 1):
            logprobs = step(self._superpose(branches, embed), depth)  # [vocab]
            assert logprobs.dim() == 1, logprobs.shape
            self._extend(branches, logprobs, rooted=False)
        branches.sort(key=lambda b: b.score, reverse=True)
        return [Draft(tuple(b.tokens), b.score, "superposed") for b in branches]

    def _superpose(self, branches: list[_Branch], embed: Callable[[list[int]], torch.Tensor]) -> torch.Tensor:
        """Σ_i w_i · embedding(newest token of draft i), w = softmax of the drafts' scores: [hidden] fp32."""
        embeddings = embed([b.tokens[-1] for b in branches]).float()  # [k, hidden]
        assert embeddings.dim() == 2 and embeddings.shape[0] == len(branches), embeddings.shape
        scores = torch.tensor([b.score for b in branches], dtype=torch.float32, device=embeddings.device)
        return torch.softmax(scores, dim=0) @ embeddings  # [k] @ [k, hidden] -> [hidden]

    def _extend(self, branches: list[_Branch], logprobs: torch.Tensor, rooted: bool) -> None:
        """Append to each draft its best of the top-k tokens by (1 - α)·model + α·n-gram log-probability;
        ``rooted``: the first step, where draft i takes the i-th token."""
        # The model's part: tempered log-probabilities, renormalized over the top k tokens (as in the paper).
        top = logprobs.topk(len(branches))  # values, indices: [k], best first
        tokens = top.indices.tolist()
        model = torch.log_softmax(top.values / self.temperature, 0).tolist()
        for i, branch in enumerate(branches):
            candidates = [i] if rooted else range(len(branches))
            scored = [(self._score(model[c], branch.history, tokens[c]), tokens[c]) for c in candidates]
            score, token = max(scored, key=lambda pair: pair[0])
            branch.tokens.append(token)
            branch.history.append(token)
            branch.score += score

    def _score(self, model_logprob: float, history: list[int], token: int) -> float:
        if self.alpha == 0.0:  # the model alone: skip the n-gram look-ups
            return model_logprob
        return (1 - self.alpha) * model_logprob + self.alpha * self.ngram.logprob(history, token)
