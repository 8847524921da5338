"""The LM head of a low-bit model: int8 for the whole vocabulary, then the best candidates recomputed exactly.

A one-token step of a 1.5B coder model with its 150k-token vocabulary streams the head's weights once per token:
467 MB in bf16, a third of the step. int8 with a scale per output channel halves that, but its rounding moves
the logits enough to change suggestion #1 on real code (measured on the default model: 30 of 46 points equal
to fp32's, against 40 with a dense head). So the int8 logits only choose candidates: the TOP_K best rows are
recomputed from the dense weight (TOP_K x hidden reads: nothing beside the whole head) and replace theirs.
Greedy decoding then picks what the dense head picks whenever its choice is among int8's TOP_K, and every
logit a draft's acceptance or a suggestion's score reads near the top is exact. The dense weight stays (it
is the input embedding too in tied models) and computes wide forwards, where a matmul beats the kernel.
"""

from __future__ import annotations

import torch
from torch import nn

from kvcomplete.completion.model.weights import MAX_ROWS, Int8Linear

TOP_K = 32
HEAD_FORMAT = f"head int8 + exact top {TOP_K}"  # how `kvcomplete info` names it beside the layers' formats


class RescoredHead(Int8Linear):
    """The head's int8 form, whose kernel's best rows are recomputed from the dense head, kept as it is (it
    also runs the wide forwards)."""

    def __init__(self, head: nn.Linear, top_k: int = TOP_K, max_rows: int = MAX_ROWS["int8"]) -> None:
        super().__init__(head.weight, head.bias, head.weight.dtype, max_rows)
        self.weight = head.weight  # the model's parameter, unchanged: ties and counts hold
        self.top_k = top_k

    def low_bit(self, x: torch.Tensor) -> torch.Tensor:
        logits = super().low_bit(x)
        candidates = logits.topk(self.top_k, dim=-1).indices  # [rows, top_k]
        exact = torch.einsum("rh,rkh->rk", x, self.weight[candidates])
        return logits.scatter(1, candidates, exact.to(logits.dtype))


def rescore_head(model: nn.Module) -> bool:
    """Give ``model`` a RescoredHead in place of its dense LM head; False when it has no plain linear head."""
    head = model.get_output_embeddings()
    if type(head) is not nn.Linear:
        return False
    model.set_output_embeddings(RescoredHead(head))
    return True
