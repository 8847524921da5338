"""A random-weight GGUF of a real model's shape, to time engines on files that size without downloading one.

Speed does not depend on the weights' values, only on their shapes and types. The file is a llama-architecture
model (Qwen2.5-Coder-1.5B's shape by default) in F16 with the default model's tokenizer copied in, so both
engines can tokenize; `llama-quantize` then makes the Q4_K_M / Q8_0 files a developer would run.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter
from gguf.quants import quantize as quantize_blocks


@dataclass(frozen=True, slots=True)
class Shape:
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    ffn: int
    rope_base: float = 1_000_000.0
    context: int = 32768


TINY_VOCAB = 256  # the vocabulary of a file written without a tokenizer (tests of the weights alone)
QWEN25_CODER_1_5B = Shape(hidden=1536, layers=28, heads=12, kv_heads=2, ffn=8960)


def _copy_tokenizer(writer: GGUFWriter, tokenizer_gguf: Path) -> int:
    """Copy the ``tokenizer.*`` fields of ``tokenizer_gguf``; returns its vocabulary size."""
    reader = GGUFReader(tokenizer_gguf)
    for key, field in reader.fields.items():
        if not key.startswith("tokenizer."):
            continue
        value, kind = field.contents(), field.types[0]
        writer.add_key_value(key, value, kind, sub_type=field.types[-1] if kind == GGUFValueType.ARRAY else None)
    return len(reader.fields["tokenizer.ggml.tokens"].data)


def write_random_gguf(path: Path, tokenizer_gguf: Path | None, shape: Shape = QWEN25_CODER_1_5B, seed: int = 0,
                      linear_type: GGMLQuantizationType = GGMLQuantizationType.F16, std: float = 0.02) -> Path:
    """Write a llama-architecture GGUF of ``shape`` with random weights and the tokenizer of ``tokenizer_gguf``
    (its vocabulary sets the embedding's size; None: no tokenizer and TINY_VOCAB tokens); returns ``path``. The block layers' weights are F16, or
    ``linear_type`` where gguf can quantize to it (Q4_0, Q4_1, Q8_0: small files for tests); weights are normal
    with standard deviation ``std``."""
    rng = np.random.default_rng(seed)
    writer = GGUFWriter(str(path), "llama")
    head_dim = shape.hidden // shape.heads
    writer.add_block_count(shape.layers)
    writer.add_context_length(shape.context)
    writer.add_embedding_length(shape.hidden)
    writer.add_feed_forward_length(shape.ffn)
    writer.add_head_count(shape.heads)
    writer.add_head_count_kv(shape.kv_heads)
    writer.add_rope_freq_base(shape.rope_base)
    writer.add_rope_dimension_count(head_dim)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_file_type(1)  # mostly F16
    vocab = TINY_VOCAB if tokenizer_gguf is None else _copy_tokenizer(writer, tokenizer_gguf)
    writer.add_vocab_size(vocab)

    def matrix(rows: int, cols: int) -> np.ndarray:
        return (rng.standard_normal((rows, cols), dtype=np.float32) * std).astype(np.float16)

    kv = shape.kv_heads * head_dim
    writer.add_tensor("token_embd.weight", matrix(vocab, shape.hidden))
    writer.add_tensor("output_norm.weight", np.ones(shape.hidden, dtype=np.float32))
    writer.add_tensor("output.weight", matrix(vocab, shape.hidden))
    for layer in range(shape.layers):
        for name, rows, cols in (("attn_q", shape.hidden, shape.hidden), ("attn_k", kv, shape.hidden),
                                 ("attn_v", kv, shape.hidden), ("attn_output", shape.hidden, shape.hidden),
                                 ("ffn_gate", shape.ffn, shape.hidden), ("ffn_up", shape.ffn, shape.hidden),
                                 ("ffn_down", shape.hidden, shape.ffn)):
            weight = matrix(rows, cols)
            if linear_type != GGMLQuantizationType.F16:
                weight = quantize_blocks(weight.astype(np.float32), linear_type)
            writer.add_tensor(f"blk.{layer}.{name}.weight", weight, raw_dtype=linear_type)
        for norm in ("attn_norm", "ffn_norm"):
            writer.add_tensor(f"blk.{layer}.{norm}.weight", np.ones(shape.hidden, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def quantize(llama_quantize: Path, source: Path, target: Path, kind: str, threads: int = 2) -> Path:
    """``llama-quantize`` ``source`` into ``target`` as ``kind`` (e.g. Q4_K_M, Q8_0); returns ``target``."""
    subprocess.run([str(llama_quantize), str(source), str(target), kind, str(threads)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return target
