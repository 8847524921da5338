"""A GGUF's layers in their bits: the int4 levels read from the blocks are the file's weights, and a model
loaded that way computes what transformers' dequantized load computes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gguf import GGMLQuantizationType, dequantize
from gguf.quants import quantize

from kvcomplete.bench.random_gguf import Shape, write_random_gguf
from kvcomplete.completion.model import attention, gguf_weights
from kvcomplete.completion.model.gguf_weights import BlockLinear, four_bit_levels, load_in_bits
from kvcomplete.completion.model.weights import Int4Linear, Int8Linear
from tests.kernels.test_cpu_blocks import built_library, random_blocks

ROWS, COLS = 8, 512


def q4_k_blocks(rng: np.random.Generator) -> np.ndarray:
    """Random Q4_K rows: any bytes are valid blocks once the two fp16 super-block scales are sane."""
    blocks = rng.integers(0, 256, size=(ROWS * COLS // 256, 144), dtype=np.uint8)
    blocks[:, 0:2] = np.float16(0.01).reshape(1).view(np.uint8)
    blocks[:, 2:4] = rng.uniform(0.001, 0.02, size=len(blocks)).astype(np.float16).view(np.uint8).reshape(-1, 2)
    return blocks.reshape(ROWS, -1)


@pytest.mark.parametrize("qtype", [GGMLQuantizationType.Q4_0, GGMLQuantizationType.Q4_1, GGMLQuantizationType.Q4_K])
def test_four_bit_levels_are_the_blocks_weights(qtype):
    rng = np.random.default_rng(0)
    data = (q4_k_blocks(rng) if qtype == GGMLQuantizationType.Q4_K
            else quantize(rng.standard_normal((ROWS, COLS), dtype=np.float32), qtype))
    q, scale, zero = four_bit_levels(data, qtype, ROWS)
    assert q.shape == (ROWS, COLS) and scale.shape == zero.shape == (ROWS, COLS // 32)
    assert q.min() >= 0 and q.max() <= 15
    weights = (q.reshape(ROWS, -1, 32).astype(np.float32) - 8) * scale[..., None] + zero[..., None]
    np.testing.assert_allclose(weights.reshape(ROWS, COLS), dequantize(data, qtype), rtol=1e-5, atol=1e-6)


def test_other_types_are_refused_as_four_bit():
    data = quantize(np.ones((ROWS, COLS), dtype=np.float32), GGMLQuantizationType.Q8_0)
    with pytest.raises(ValueError, match="Q8_0"):
        four_bit_levels(data, GGMLQuantizationType.Q8_0, ROWS)


TINY = Shape(hidden=64, layers=2, heads=4, kv_heads=2, ffn=128, context=512)


@pytest.mark.parametrize("linear_type, kind, blocks_built", [(GGMLQuantizationType.Q4_0, Int4Linear, True),
                                                             (GGMLQuantizationType.Q8_0, BlockLinear, True),
                                                             (GGMLQuantizationType.Q8_0, Int8Linear, False)])
def test_a_gguf_loaded_in_its_bits_computes_what_the_dequantized_load_computes(tmp_path, monkeypatch, linear_type,
                                                                               kind, blocks_built):
    """A tiny llama GGUF (q/k rows permuted the way llama.cpp stores them): the logits of transformers' own
    GGUF load, which dequantizes every tensor. Q8_0 runs from its blocks, or through int8 where the block
    kernel could not be built."""
    if blocks_built:
        built_library()
    else:
        monkeypatch.setattr(gguf_weights, "block_library", lambda: None)
    # weights large enough that attention is far from uniform: q/k rows in the wrong order would show
    path = write_random_gguf(tmp_path / "tiny.gguf", None, TINY, seed=1, linear_type=linear_type, std=0.3)
    model, counts = load_tiny(path)
    assert counts == {{Int4Linear: "int4", Int8Linear: "int8", BlockLinear: "Q8_0"}[kind]: 7 * TINY.layers}
    assert isinstance(model.model.layers[0].self_attn.q_proj, kind) and isinstance(model.model.layers[1].mlp.down_proj, kind)
    assert_logits_close_to_the_dequantized_load(model, path)


def test_an_untied_quantized_head_computes_from_its_blocks(tmp_path, monkeypatch):
    """A Q8_0 output.weight (the Q4_K_M files' head is Q6_K): the head a block layer, the logits still the
    dequantized load's."""
    from gguf import GGUFWriter

    built_library()
    add_tensor = GGUFWriter.add_tensor

    def head_in_q8_0(self, name, tensor, *args, **options):
        if name == "output.weight":
            blocks = quantize(tensor.astype(np.float32), GGMLQuantizationType.Q8_0)
            return add_tensor(self, name, blocks, raw_dtype=GGMLQuantizationType.Q8_0)
        return add_tensor(self, name, tensor, *args, **options)

    monkeypatch.setattr(GGUFWriter, "add_tensor", head_in_q8_0)
    path = write_random_gguf(tmp_path / "tiny.gguf", None, TINY, seed=1, linear_type=GGMLQuantizationType.Q4_0,
                             std=0.3)
    monkeypatch.undo()
    model, counts = load_tiny(path)
    assert counts == {"int4": 7 * TINY.layers, "head Q8_0": 1}
    assert isinstance(model.get_output_embeddings(), BlockLinear)
    assert_logits_close_to_the_dequantized_load(model, path)


def load_tiny(path):
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(path.parent, gguf_file=path.name, local_files_only=True)
    return load_in_bits(path, config, torch.bfloat16, attention.register())


def assert_logits_close_to_the_dequantized_load(model, path) -> None:
    from transformers import AutoModelForCausalLM

    reference = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32,
                                                     local_files_only=True)
    ids = torch.arange(3, 40)[None]
    with torch.no_grad():
        ours, theirs = model(ids).logits.float(), reference(ids).logits
    # bf16 arithmetic (and int8's per-channel rounding of Q8_0) against fp32: close, not equal. With the q/k
    # rows left in the file's order the mean difference was 2.06 (the logits' std 2.33), argmax agreement 3%.
    assert (ours - theirs).abs().mean() < 0.05 * theirs.std()
    assert (ours.argmax(-1) == theirs.argmax(-1)).float().mean() >= 0.9


@pytest.mark.parametrize("qtype", [GGMLQuantizationType.Q4_K, GGMLQuantizationType.Q6_K], ids=lambda qtype: qtype.name)
def test_a_block_layer_computes_its_dequantized_linear_at_any_width(qtype):
    """Through LowBitLinear's forward: the bias added, a forward wider than the kernel's rows run in pieces;
    against fp32 on the dequantized weights, the only difference the activations' int8 rounding (~0.5 %)."""
    rng = np.random.default_rng(2)
    blocks, bias = random_blocks(qtype, 32, 512, rng), torch.randn(32)
    layer = BlockLinear(qtype, torch.from_numpy(blocks), 512, bias, built_library())
    x = torch.randn(2, 20, 512)
    expected = torch.nn.functional.linear(x, torch.from_numpy(dequantize(blocks, qtype)), bias)
    got = layer(x)
    assert got.shape == (2, 20, 32)
    assert (got - expected).abs().max() < 0.02 * expected.abs().max()
