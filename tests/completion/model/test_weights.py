"""Low-bit linear layers equal their dequantised matmul; int4 recovers Q4_1 weights; quantize() swaps layers."""

from __future__ import annotations

import pytest
import torch
import transformers

from kvcomplete.completion.model.weights import (
    INT4_GROUP,
    Int4Linear,
    Int8Linear,
    all_four_bit,
    is_four_bit,
    linear_layers,
    pack_int4,
    quantize,
)

# The kernels accumulate in fp32 but round their output (and, in bf16, the activations' products) to the
# activation dtype: a bf16 result is within a few bf16 ulps of the fp64 reference.
TOLERANCE = {torch.float32: {"atol": 1e-4, "rtol": 1e-4}, torch.bfloat16: {"atol": 2e-2, "rtol": 2e-2}}
DTYPES = pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])


def linear_with(weight: torch.Tensor) -> torch.nn.Linear:
    linear = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False, dtype=weight.dtype)
    linear.weight.data = weight
    return linear.requires_grad_(False)


def q4_1_weight(out_features: int, in_features: int, seed: int) -> torch.Tensor:
    """A weight exactly representable in GGUF Q4_1: per 32 inputs, w = d * q + m with fp16 d, m, q in 0..15
    (0 and 15 both used, as Q4_1's min/max rule gives)."""
    gen = torch.Generator().manual_seed(seed)
    groups = in_features // INT4_GROUP
    q = torch.randint(0, 16, (out_features, groups, INT4_GROUP), generator=gen)
    q[..., 0], q[..., 1] = 0, 15
    d = (torch.rand(out_features, groups, 1, generator=gen) * 0.02 + 1e-3).half().float()
    m = (-8 * d + torch.randn(out_features, groups, 1, generator=gen) * 1e-3).half().float()
    return (d * q + m).view(out_features, in_features)


def reference(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return (x.double() @ weight.double().T).to(x.dtype)


@DTYPES
@pytest.mark.parametrize("rows", [1, 3, 16])
def test_int8_equals_its_dequantised_matmul(dtype, rows):
    weight = torch.randn(96, 64, generator=torch.Generator().manual_seed(1))
    layer = Int8Linear.from_linear(linear_with(weight.to(dtype)))
    dequantised = layer.qweight.float() * layer.scales.float()[:, None]
    assert (dequantised - weight).abs().max() <= weight.abs().amax() / 127, "per-channel rounding at most"
    x = torch.randn(1, rows, 64, generator=torch.Generator().manual_seed(2)).to(dtype)
    torch.testing.assert_close(layer(x), reference(x, dequantised), **TOLERANCE[dtype])


@DTYPES
def test_int4_recovers_q4_1_weights(dtype):
    """The default model's linear layers are Q4_1 in their GGUF: int4 computes with the shipped weights."""
    weight = q4_1_weight(64, 128, seed=3)
    layer = Int4Linear.from_linear(linear_with(weight.to(dtype)))
    x = torch.randn(5, 128, generator=torch.Generator().manual_seed(4)).to(dtype)
    # against the exact weight (not the layer's own dequantisation): the format loses nothing of Q4_1
    torch.testing.assert_close(layer(x), reference(x, weight.to(dtype).float()), **TOLERANCE[dtype])


@DTYPES
def test_four_bit_weights_are_recognised(dtype):
    """int4 is taken only where it is lossless: Q4_1 weights (also once rounded to bf16), not others."""
    assert is_four_bit(linear_with(q4_1_weight(64, 128, seed=7).to(dtype)))
    assert not is_four_bit(linear_with(torch.randn(64, 128, generator=torch.Generator().manual_seed(8)).to(dtype)))
    assert not is_four_bit(linear_with(torch.randn(64, 40).to(dtype))), "40 inputs: no whole groups of 32"


@pytest.mark.parametrize("make", [Int8Linear.from_linear, Int4Linear.from_linear])
def test_wide_forwards_compute_the_same_weights_densely(make):
    """Past max_rows a dense matmul runs, with the dequantised weight: the same model at every width (a tree
    verified densely picks what one-token steps pick), so narrow and wide rows agree up to rounding."""
    weight = torch.randn(32, 64, generator=torch.Generator().manual_seed(5))  # not 4-bit: quantising changes it
    original = weight.clone()
    layer = make(linear_with(weight))
    layer.max_rows = 4
    assert not torch.equal(layer.weight, original), "the dense copy is the dequantised weight"
    x = torch.randn(1, 9, 64, generator=torch.Generator().manual_seed(6))
    wide = layer(x)
    torch.testing.assert_close(wide, torch.nn.functional.linear(x, layer.weight))  # 9 rows: dense
    torch.testing.assert_close(layer(x[:, :4]), wide[:, :4], atol=1e-4, rtol=1e-4)  # 4 rows: the kernel


def test_a_layer_without_a_dense_copy_runs_wide_forwards_through_its_kernel_in_pieces():
    """A GGUF's layers keep only their bits: 9 rows at max_rows 4 are three kernel calls, equal to row by row."""
    q = torch.randint(0, 16, (32, 64), generator=torch.Generator().manual_seed(9))
    scale, zero = torch.rand(32, 2) / 10, torch.randn(32, 2) / 10
    layer = Int4Linear(q, scale, zero, None, torch.float32, max_rows=4)
    assert layer.weight is None
    x = torch.randn(9, 64, generator=torch.Generator().manual_seed(10))
    expected = (q.view(32, 2, 32) - 8) * scale[..., None] + zero[..., None]
    torch.testing.assert_close(layer(x), reference(x, expected.view(32, 64)), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(layer(x), torch.cat([layer(row[None]) for row in x]))


def tiny_llama() -> torch.nn.Module:
    config = transformers.LlamaConfig(vocab_size=97, hidden_size=64, intermediate_size=96, num_attention_heads=4,
                                      num_key_value_heads=2, num_hidden_layers=2, tie_word_embeddings=True)
    torch.manual_seed(0)
    return transformers.AutoModelForCausalLM.from_config(config).eval().requires_grad_(False)


def test_a_model_is_4_bit_when_every_layer_but_the_head_is():
    """What weights auto asks before it takes int4: the LM head (here the tied embedding) is not looked at."""
    model = tiny_llama()
    layers = linear_layers(model)
    assert len(layers) == 14 and model.get_output_embeddings() not in [layer for *_, layer in layers]
    assert not all_four_bit(model)
    for seed, (_, _, layer) in enumerate(layers):
        layer.weight.data = q4_1_weight(*layer.weight.shape, seed=seed)
    assert all_four_bit(model)
    layers[5][2].weight.data += 1e-3 * torch.randn(layers[5][2].weight.shape)
    assert not all_four_bit(model)


@pytest.mark.parametrize("fmt", ["int8", "int4"])
def test_quantize_swaps_every_linear_and_keeps_the_logits(fmt):
    model = tiny_llama()
    ids = torch.tensor([[5, 9, 31, 2]])
    with torch.inference_mode():
        dense = model(ids).logits
        parameters = sum(p.numel() for p in model.parameters())
        counts = quantize(model, fmt)
        assert [m for m in model.modules() if type(m) is torch.nn.Linear] == [model.get_output_embeddings()]
        # the LM head stays dense; random weights are not 4-bit: int4 would change them, so int8
        assert counts == {"int8": 14}, counts
        assert sum(p.numel() for p in model.parameters()) == parameters, "dense weights kept for wide forwards"
        assert model.get_output_embeddings().weight is model.get_input_embeddings().weight
        low_bit = torch.cat([model(ids[:, : i + 1]).logits[:, -1:] for i in range(4)], 1)  # 1..4 rows: low-bit
    torch.testing.assert_close(low_bit, dense, atol=0.05, rtol=0.05)


@pytest.mark.parametrize("rows, cols", [(128, 64), (192, 96), (48, 64)])
def test_pack_int4_is_torchs_packing(rows, cols):
    """The fast packing equals torch's own (48 rows: not whole blocks, torch's packer runs)."""
    q = torch.randint(0, 16, (rows, cols), generator=torch.Generator().manual_seed(rows))
    expected = torch.ops.aten._convert_weight_to_int4pack_for_cpu(q.to(torch.int32), 2)
    assert torch.equal(pack_int4(q), expected)
