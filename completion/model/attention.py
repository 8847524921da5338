"""The attention every kvcomplete forward runs through, registered with transformers by name.

A forward's keys are the store's slots [0, write_at + n): the prompt prefix [0, prefix_len) that every new
token sees, then slots each token sees or not (document slots after the cursor that the prompt hides, branch
scratch, the new tokens themselves). The runner (completion/model/runner.py) gives this function one of two inputs:

- an explicit boolean mask [1, 1, n, context] over every key: plain masked attention with grouped-query heads
  through SDPA (the torch path, on any device);
- a ``TreeBlock`` (the ``tree_block`` keyword, which transformers passes through to the attention function)
  with, as the attention mask, only the tree block's mask [1, 1, n, S]: every token sees [0, prefix_len), the
  mask decides over [tree_start, tree_start + S), no other key is visible. That is the layout of the Triton
  tree-attention kernel (kernels/tree_attention.py), which then reads only the K/V some token can see: the
  hidden document slots cost nothing.

On a CPU, a forward of at most NARROW_TOKENS tokens in bf16 (or fp16) with a mask takes a third route: the
grouped matmul-softmax-matmul in fp32. CPU SDPA with a boolean mask costs 6-9x more for one query over 1k
keys in bf16 (0.8 ms against 0.12 ms a layer: 63% of a one-token step once the weights are int4) and no
less from 16 queries on; fp32 math keeps SDPA's accuracy (scores rounded to bf16 would be 20x worse).

The function is registered in ``AttentionInterface`` and, with transformers' SDPA mask builder, in
``AttentionMaskInterface``: without the latter entry transformers would build no mask for this implementation
and attend wrongly whenever it is asked to build one itself. A 4-D mask is passed through by transformers as is.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import AttentionInterface
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

from kvcomplete.kernels.tree_attention import tree_attention

NAME = "kvcomplete"
NARROW_TOKENS = 4  # CPU low-precision forwards of up to this many queries use grouped_attention_fp32


@dataclass(frozen=True, slots=True)
class TreeBlock:
    """Where the keys of a tree-kernel forward lie; the forward's attention mask is the tree block's."""

    prefix_len: int  # keys [0, prefix_len) are visible to every new token
    tree_start: int  # keys [tree_start, tree_start + S) are the tree block (S: the mask's last dim)
    prefix_lens: torch.Tensor  # [1] int32 on the model's device: prefix_len for the kernel, made once per forward


def split_tree_block(prefix_len: int, visible: torch.Tensor) -> tuple[int, torch.Tensor]:
    """(tree_start, tree mask [n, S]) of a forward whose new tokens see slots [0, prefix_len) and, per
    ``visible`` [n, W], which of the slots [prefix_len, prefix_len + W). The tree block starts at the first slot
    that some token sees and runs to the end; the slots before it are seen by none (hidden document slots)."""
    seen = torch.nonzero(visible.any(dim=0))
    first = int(seen[0]) if len(seen) else visible.shape[1]
    return prefix_len + first, visible[:, first:]


def masked_attention(module: torch.nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                     attention_mask: torch.Tensor | None, scaling: float | None = None, dropout: float = 0.0,
                     tree_block: TreeBlock | None = None, **kwargs) -> tuple[torch.Tensor, None]:
    """query [B, Hq, n, D], key/value [B, Hkv, context, D] → [B, n, Hq, D]. mask: [B, 1, n, context] bool, or
    with ``tree_block`` the tree block's [B, 1, n, S]."""
    if tree_block is not None:
        scale = query.shape[-1] ** -0.5 if scaling is None else scaling
        out = tree_attention(query, key, value, tree_block.prefix_lens, attention_mask[:, 0], scale,
                             tree_start=tree_block.tree_start, max_prefix_len=tree_block.prefix_len,
                             backend="triton")
        return out.transpose(1, 2).contiguous(), None
    if (attention_mask is not None and query.device.type == "cpu" and query.dtype != torch.float32
            and query.shape[2] <= NARROW_TOKENS):
        return grouped_attention_fp32(query, key, value, attention_mask, scaling), None
    # transformers' own mask builder (e.g. inside `generate`) returns None for a plain causal prefill.
    causal = attention_mask is None and query.shape[2] > 1
    out = torch.nn.functional.scaled_dot_product_attention(
        query, key, value, attn_mask=attention_mask, is_causal=causal, scale=scaling,
        enable_gqa=query.shape[1] != key.shape[1])
    return out.transpose(1, 2).contiguous(), None


def grouped_attention_fp32(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor,
                           scaling: float | None) -> torch.Tensor:
    """Masked attention with grouped-query heads, computed in fp32: query [B, Hq, n, D], key/value
    [B, Hkv, context, D], mask [B, 1, n, context] bool → [B, n, Hq, D] in the query's dtype."""
    batch, q_heads, n, dim = query.shape
    kv_heads = key.shape[1]
    group = q_heads // kv_heads
    scale = dim ** -0.5 if scaling is None else scaling
    grouped = query.float().reshape(batch, kv_heads, group * n, dim)  # the q heads sharing a kv head, stacked
    scores = torch.matmul(grouped, key.float().transpose(-1, -2)).mul_(scale).view(batch, kv_heads, group, n, -1)
    scores.masked_fill_(~mask[:, :, None], float("-inf"))
    weights = torch.softmax(scores, dim=-1).view(batch, kv_heads, group * n, -1)
    out = torch.matmul(weights, value.float()).view(batch, q_heads, n, dim)
    return out.transpose(1, 2).to(query.dtype).contiguous()


def register() -> str:
    """Register the attention under NAME (idempotent); returns the name to load models with."""
    AttentionInterface.register(NAME, masked_attention)
    AttentionMaskInterface.register(NAME, sdpa_mask)
    return NAME
