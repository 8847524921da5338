"""The rescored LM head: int8 logits choose candidates, the dense weight decides among them."""

from __future__ import annotations

import torch

from kvcomplete.completion.model.head import RescoredHead, rescore_head
from kvcomplete.completion.model.weights import Int8Linear, parameter_count


def close_rivals_head(vocab: int = 2000, hidden: int = 64) -> torch.nn.Linear:
    """A head whose rows come in near-identical pairs: int8's per-channel rounding often swaps a pair's order."""
    generator = torch.Generator().manual_seed(0)
    base = torch.randn(vocab // 2, hidden, generator=generator)
    rows = torch.cat((base, base + 1e-3 * torch.randn(vocab // 2, hidden, generator=generator)))
    head = torch.nn.Linear(hidden, vocab, bias=False)
    head.weight.data = rows
    return head


def test_greedy_choices_are_the_dense_heads():
    head = close_rivals_head()
    rescored = RescoredHead(head)
    x = torch.randn(200, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        dense = head(x)
        int8_alone = Int8Linear.low_bit(rescored, x)
        for row in range(0, 200, 8):  # a step is up to max_rows rows
            chunk = x[row: row + 8]
            assert torch.equal(rescored(chunk).argmax(-1), dense[row: row + 8].argmax(-1))
    assert (int8_alone.argmax(-1) != dense.argmax(-1)).sum() > 0, "the case must be one int8 alone gets wrong"


def test_the_top_logits_are_exact_and_wide_forwards_dense():
    head = close_rivals_head()
    rescored = RescoredHead(head, top_k=8)
    x = torch.randn(1, 3, 64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        dense, got = head(x), rescored(x)
        best = dense.topk(4, dim=-1).indices
        torch.testing.assert_close(got.gather(-1, best), dense.gather(-1, best))
        wide = torch.randn(40, 64)
        torch.testing.assert_close(rescored(wide), head(wide))


def test_rescore_head_keeps_the_models_head_parameter(tiny_model_dir):
    """The same parameter (a tied embedding stays tied): no copy of the dense head."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    weight, count = model.get_output_embeddings().weight, parameter_count(model)
    assert rescore_head(model)
    assert parameter_count(model) == count, "the int8 copy is not counted as more parameters"
    assert isinstance(model.get_output_embeddings(), RescoredHead)
    assert model.get_output_embeddings().weight is weight
    assert not rescore_head(model), "a head is rescored once"
