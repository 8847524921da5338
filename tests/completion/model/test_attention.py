"""The attention function's two inputs (full mask, tree block) agree, and a runner's mask splits into a tree block."""

from __future__ import annotations

import torch

from kvcomplete.completion.model.attention import TreeBlock, masked_attention, split_tree_block

# The Triton path runs compiled on a GPU and through the interpreter on CPU (tests/conftest.py sets it up).
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def test_split_finds_the_first_slot_anyone_sees():
    visible = torch.zeros(3, 9, dtype=torch.bool)  # slots [5, 14) after a prefix of 5
    visible[0, 4] = visible[1, 6] = visible[2, 8] = visible[2, 4] = True
    tree_start, tree_mask = split_tree_block(5, visible)
    assert tree_start == 9 and torch.equal(tree_mask, visible[:, 4:])


def test_split_of_a_mask_that_sees_nothing_past_the_prefix_is_empty():
    tree_start, tree_mask = split_tree_block(5, torch.zeros(2, 4, dtype=torch.bool))
    assert tree_start == 9 and tree_mask.shape == (2, 0)


def test_tree_block_input_equals_the_full_mask():
    """The engine's layout: prefix, hidden document slots, scratch seen by some rows, the nodes' own tree."""
    gen = torch.Generator().manual_seed(0)
    prefix_len, hidden, scratch, nodes = 11, 6, 4, 5
    context = prefix_len + hidden + scratch + nodes
    query = torch.randn(1, 4, nodes, 16, generator=gen)
    key, value = torch.randn(2, 1, 2, context, 16, generator=gen)
    visible = torch.zeros(nodes, context - prefix_len, dtype=torch.bool)
    visible[:, hidden:hidden + scratch] = torch.rand(nodes, scratch, generator=gen) < 0.5
    visible[:, hidden + scratch:] = torch.ones(nodes, nodes, dtype=torch.bool).tril()
    full = torch.cat((torch.ones(nodes, prefix_len, dtype=torch.bool), visible), dim=1)[None, None]
    expected, _ = masked_attention(None, query, key, value, full, scaling=0.25)

    tree_start, tree_mask = split_tree_block(prefix_len, visible)
    block = TreeBlock(prefix_len, tree_start, torch.tensor([prefix_len], dtype=torch.int32, device=DEVICE))
    got, _ = masked_attention(None, query.to(DEVICE), key.to(DEVICE), value.to(DEVICE),
                              tree_mask.to(DEVICE)[None, None], scaling=0.25, tree_block=block)
    assert got.shape == expected.shape == (1, nodes, 4, 16)
    torch.testing.assert_close(got.cpu(), expected, atol=2e-5, rtol=1e-4)


def test_narrow_cpu_bf16_attention_equals_sdpa():
    """The fp32 route of narrow bf16 CPU forwards gives SDPA's output on the engine's layout (prefix, hidden
    document slots, branch scratch, the new tokens) with GQA, to bf16's rounding of the result."""
    from kvcomplete.completion.model.attention import NARROW_TOKENS

    gen = torch.Generator().manual_seed(1)
    prefix_len, hidden, scratch = 40, 7, 3
    for nodes in range(1, NARROW_TOKENS + 1):
        context = prefix_len + hidden + scratch + nodes
        query = (3 * torch.randn(1, 6, nodes, 32, generator=gen)).bfloat16()
        key, value = (3 * torch.randn(2, 1, 2, context, 32, generator=gen)).bfloat16()
        mask = torch.ones(1, 1, nodes, context, dtype=torch.bool)
        mask[..., prefix_len:prefix_len + hidden] = False
        mask[..., prefix_len + hidden:prefix_len + hidden + scratch] = torch.rand(nodes, scratch, generator=gen) < 0.5
        mask[..., context - nodes:] = torch.ones(nodes, nodes, dtype=torch.bool).tril()
        got, _ = masked_attention(None, query, key, value, mask, scaling=0.2)
        expected = torch.nn.functional.scaled_dot_product_attention(
            query.float(), key.float(), value.float(), attn_mask=mask, scale=0.2, enable_gqa=True).transpose(1, 2)
        assert got.dtype == torch.bfloat16 and got.shape == (1, nodes, 6, 32)
        torch.testing.assert_close(got.float(), expected, atol=1e-2, rtol=2**-7)
