"""The attention every kvcomplete forward runs through, registered with transformers by name.

Every forward passes an explicit boolean mask [1, 1, n, context] (prompt prefix, branch scratch, tree
ancestors), so the function is plain masked attention with grouped-query heads. It is registered in
``AttentionInterface`` and, with transformers' SDPA mask builder, in ``AttentionMaskInterface``: without the
latter entry transformers would build no mask for this implementation and attend wrongly whenever it is
asked to build one itself. The Triton tree-attention kernel (kernels/tree_attention.py) plugs in here.
"""

from __future__ import annotations

import torch
from transformers import AttentionInterface
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

NAME = "kvcomplete"


def masked_attention(module: torch.nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                     attention_mask: torch.Tensor | None, scaling: float | None = None, dropout: float = 0.0,
                     **kwargs) -> tuple[torch.Tensor, None]:
    """query [B, Hq, n, D], key/value [B, Hkv, context, D], mask [B, 1, n, context] bool → [B, n, Hq, D]."""
    # transformers' own mask builder (e.g. inside `generate`) returns None for a plain causal prefill.
    causal = attention_mask is None and query.shape[2] > 1
    out = torch.nn.functional.scaled_dot_product_attention(
        query, key, value, attn_mask=attention_mask, is_causal=causal, scale=scaling,
        enable_gqa=query.shape[1] != key.shape[1])
    return out.transpose(1, 2).contiguous(), None


def register() -> str:
    """Register the attention under NAME (idempotent); returns the name to load models with."""
    AttentionInterface.register(NAME, masked_attention)
    AttentionMaskInterface.register(NAME, sdpa_mask)
    return NAME
