"""A GGUF file's weights in their own bits: each linear layer built straight from its quantized blocks.

Q4_K, Q6_K and Q8_0 layers (and an untied LM head of those types) keep the file's block bytes and compute from
them with kernels/cpu_blocks.c, as llama.cpp does: activations quantized to int8 per block, integer dot products
(AVX512-VNNI where the CPU has it). Without that library (no C compiler), and for the other types, the nearest
torch kernel: Q4_0, Q4_1 and Q4_K blocks are groups of 32 weights on 16 levels with a scale and an offset
(Q4_K's are 6-bit multiples of its 256-weight super-block's two scales), exactly the int4 kernel's format,
w = (q - 8) * scale + zero (the scales rounded to bf16, the kernel's dtype); other quantized types (Q5_*, Q6_K,
Q8_0, ...) take int8 with one scale per output channel, from their dequantized values. Float tensors, and
everything that is not a linear layer (embeddings, norms, a tied LM head), are dequantized once into the model's
dtype. The low-bit layers keep no dense copy: memory follows the file, and forwards wider than the kernels' row
limit run through them in pieces.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from gguf import GGMLQuantizationType, dequantize
from gguf.quants import Q4_K
from torch import nn

from kvcomplete.completion.model import gguf_file
from kvcomplete.completion.model.default_model import cache_root
from kvcomplete.completion.model.weights import Int4Linear, Int8Linear, LowBitLinear, linear_layers
from kvcomplete.kernels import cpu_blocks

FOUR_BIT_TYPES = (GGMLQuantizationType.Q4_0, GGMLQuantizationType.Q4_1, GGMLQuantizationType.Q4_K)
FLOAT_TYPES = (GGMLQuantizationType.F32, GGMLQuantizationType.F16, GGMLQuantizationType.BF16)
GROUP = 32


def _nibbles(packed: np.ndarray) -> np.ndarray:
    """[..., 16] bytes → [..., 32] levels: low nibbles first, then high (how ggml packs a 32-weight group)."""
    return np.concatenate((packed & 0x0F, packed >> 4), axis=-1)


def _halves(blocks: np.ndarray, start: int) -> np.ndarray:
    return blocks[:, start: start + 2].copy().view(np.float16).astype(np.float32)


def four_bit_levels(data: np.ndarray, qtype: GGMLQuantizationType,
                    rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(q [rows, cols] in 0..15, scale and zero [rows, cols / 32]) with w = (q - 8) * scale + zero, read from
    the raw blocks of a Q4_0 / Q4_1 / Q4_K tensor (``data``: its bytes, one row of blocks per weight row)."""
    if qtype == GGMLQuantizationType.Q4_K:
        blocks = data.reshape(-1, 144)
        d, dmin = _halves(blocks, 0), _halves(blocks, 2)
        sc, mins = Q4_K.get_scale_min(blocks[:, 4:16])
        # four chunks of 32 bytes: low nibbles are sub-block 2c, high nibbles sub-block 2c + 1
        packed = blocks[:, 16:].reshape(-1, 4, 1, 32) >> np.array([0, 4], dtype=np.uint8).reshape(1, 1, 2, 1)
        q = (packed & 0x0F).reshape(-1, 8, GROUP)
        scale = d * sc.astype(np.float32)
        zero = 8 * scale - dmin * mins.astype(np.float32)
    elif qtype in (GGMLQuantizationType.Q4_0, GGMLQuantizationType.Q4_1):
        blocks = data.reshape(-1, 18 if qtype == GGMLQuantizationType.Q4_0 else 20)
        scale = _halves(blocks, 0)
        zero = np.zeros_like(scale) if qtype == GGMLQuantizationType.Q4_0 else _halves(blocks, 2) + 8 * scale
        q = _nibbles(blocks[:, -16:])
    else:
        raise ValueError(f"{qtype.name} is not a 4-bit group type")
    return q.reshape(rows, -1), scale.reshape(rows, -1), zero.reshape(rows, -1)


def _row_order(processor, name: str, rows: int, names: dict[str, str]) -> np.ndarray | None:
    """The row permutation the transformers tensor processor applies to ``name`` (llama's q/k rows), found by
    processing row indices; None when it does more than permute rows."""
    index = np.arange(rows, dtype=np.float32)[:, None]
    result = processor.process(weights=index, name=name, tensor_key_mapping=names, parsed_parameters={})
    order = None if result.weights is None else np.asarray(result.weights)
    if order is None or order.shape != (rows, 1) or sorted(order[:, 0].astype(int)) != list(range(rows)):
        return None
    return order[:, 0].astype(np.int64)


def load_in_bits(path: Path, config, dtype: torch.dtype, attn_implementation: str,
                 report: Callable[[float], None] = lambda fraction: None) -> tuple[nn.Module, dict[str, int]]:
    """The model of the GGUF at ``path`` (its ``config`` read already) with each linear layer in the nearest
    kernel to its bits; the counts of each format. Raises ValueError when the file lacks a tensor."""
    from transformers import AutoModelForCausalLM
    from transformers.initialization import no_init_weights
    from transformers.modeling_gguf_pytorch_utils import TENSOR_PROCESSORS, TensorProcessor

    reader = gguf_file.read(path)
    with no_init_weights():  # every weight comes from the file: nothing to initialise (memory stays untouched)
        model = AutoModelForCausalLM.from_config(config, dtype=dtype, attn_implementation=attn_implementation)
    architecture = reader.architecture
    processor = TENSOR_PROCESSORS.get(architecture, TensorProcessor)(config=config.to_dict())
    names = _tensor_names(model, processor, architecture, config.num_hidden_layers)
    layers = {f"{module_name}.weight": (parent, attribute, layer) for module_name, (parent, attribute, layer)
              in _named_linear_layers(model).items()}
    head = _untied_head(model, config)
    dense: dict[str, torch.Tensor] = {}
    counts: dict[str, int] = {}
    for number, tensor in enumerate(reader.tensors):
        report(number / len(reader.tensors))
        name = names.get(tensor.name)
        if name is None:
            continue  # tensors transformers does not use (e.g. precomputed rope factors)
        if head is not None and name == head[0]:
            layer = _block_layer(tensor, head[1], np.arange(head[1].out_features), dtype)
            if layer is not None:  # the LM head from its blocks too: its logits are the file's
                model.set_output_embeddings(layer)
                counts[f"head {tensor.tensor_type.name}"] = 1
                continue
        if name in layers and tensor.tensor_type not in FLOAT_TYPES:
            kind, layer = _low_bit_layer(tensor, processor, names, layers[name][2], dtype)
            if layer is not None:
                setattr(layers[name][0], layers[name][1], layer)
                counts[kind] = counts.get(kind, 0) + 1
                continue
        if name in layers:
            counts["dense"] = counts.get("dense", 0) + 1
        values = processor.process(weights=dequantize(tensor.data, tensor.tensor_type), name=tensor.name,
                                   tensor_key_mapping=names, parsed_parameters={}).weights
        dense[name] = torch.from_numpy(np.require(values, requirements=['C', 'W'])).to(dtype)
    missing = set(model.load_state_dict(dense, strict=False, assign=True).missing_keys)
    model.tie_weights()
    missing -= {key for key in missing if key in _tied_keys(model)}
    return_freed_memory()
    if missing:
        raise ValueError(f"{path.name} lacks {len(missing)} tensor(s) the model needs, e.g. {min(missing)}")
    return model, counts


def kernel_folder() -> Path:
    """Where the GGUF block kernel is built: the user cache (``kvcomplete setup`` builds it there)."""
    return cache_root() / "kernels"


def block_library() -> ctypes.CDLL | None:
    """The GGUF block kernel (kernels/cpu_blocks.c), built on first use; None where it cannot be built."""
    return cpu_blocks.library(kernel_folder())


class BlockLinear(LowBitLinear):
    """A layer computed straight from its GGUF blocks (kernels/cpu_blocks.c): the file's bytes in memory, the
    file's weights in the sums."""

    def __init__(self, qtype: GGMLQuantizationType, blocks: torch.Tensor, in_features: int,
                 bias: torch.Tensor | None, library: ctypes.CDLL) -> None:
        """``blocks``: uint8 [out_features, bytes per row], each row the blocks of one output's weights."""
        super().__init__(in_features, blocks.shape[0], bias, cpu_blocks.MAX_ROWS)
        self.qtype, self.blocks, self.library = qtype, blocks, library

    def low_bit(self, x: torch.Tensor) -> torch.Tensor:
        return cpu_blocks.matmul(self.library, self.qtype, self.blocks, x, self.out_features)


def _block_layer(tensor, linear: nn.Linear, order: np.ndarray, dtype: torch.dtype) -> BlockLinear | None:
    """``linear`` computed from the tensor's blocks (rows in ``order``), or None where the block kernel does not
    take its type or shape, or is not built."""
    if dtype not in (torch.bfloat16, torch.float32) or not cpu_blocks.takes(tensor.tensor_type, linear.in_features):
        return None
    library = block_library()
    if library is None:
        return None
    blocks = np.asarray(tensor.data).reshape(linear.out_features, -1)[order]  # a copy: the file's bytes in memory
    return BlockLinear(tensor.tensor_type, torch.from_numpy(np.ascontiguousarray(blocks)), linear.in_features,
                       linear.bias, library)


def _untied_head(model: nn.Module, config) -> tuple[str, nn.Linear] | None:
    """(state-dict key, layer) of the model's LM head where it is a plain linear layer of its own (a tied head is
    the input embedding too, which stays dense)."""
    head = model.get_output_embeddings()
    if type(head) is not nn.Linear or getattr(config, "tie_word_embeddings", True):
        return None
    name = next(name for name, module in model.named_modules() if module is head)
    return f"{name}.weight", head


def _low_bit_layer(tensor, processor, names: dict[str, str], linear: nn.Linear,
                   dtype: torch.dtype) -> tuple[str, nn.Module | None]:
    rows = linear.out_features
    order = _row_order(processor, tensor.name, rows, names)
    if order is None:
        return "dense", None
    identity = bool(np.array_equal(order, np.arange(rows)))
    block_layer = _block_layer(tensor, linear, order, dtype)
    if block_layer is not None:
        return tensor.tensor_type.name, block_layer
    if tensor.tensor_type in FOUR_BIT_TYPES and dtype == torch.bfloat16:
        q, scale, zero = (torch.from_numpy(array) if identity else torch.from_numpy(array)[order]
                          for array in four_bit_levels(tensor.data, tensor.tensor_type, rows))
        return "int4", Int4Linear(q, scale, zero, linear.bias, dtype)
    weight = torch.from_numpy(dequantize(tensor.data, tensor.tensor_type))
    return "int8", Int8Linear(weight if identity else weight[order], linear.bias, dtype)


def return_freed_memory() -> None:
    """Hand the conversion's freed buffers back to the OS (glibc keeps them otherwise: 0.5 GB for a 1.5B model),
    so that resident memory follows the file."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def _tensor_names(model: nn.Module, processor, architecture: str, layers: int) -> dict[str, str]:
    """GGUF tensor name → the model's state-dict key, from gguf's table of each architecture's names."""
    from gguf import MODEL_ARCH_NAMES, get_tensor_name_map

    arch = next((key for key, value in MODEL_ARCH_NAMES.items() if value == architecture), None)
    if arch is None:
        raise ValueError(f"the gguf library does not know the architecture {architecture!r}")
    table = get_tensor_name_map(arch, layers)
    names = {}
    for key in model.state_dict():
        module, _, suffix = processor.preprocess_name(key).rpartition(".")
        gguf_name = table.get_name(module)
        if gguf_name is not None:
            names[f"{gguf_name}.{suffix}"] = key
    return names


def _named_linear_layers(model: nn.Module) -> dict[str, tuple[nn.Module, str, nn.Linear]]:
    modules = {id(module): name for name, module in model.named_modules()}
    return {f"{modules[id(parent)]}.{attribute}".lstrip("."): (parent, attribute, layer)
            for parent, attribute, layer in linear_layers(model)}


def _tied_keys(model: nn.Module) -> set[str]:
    """State-dict keys that share their tensor with another key (a tied LM head)."""
    seen: dict[int, str] = {}
    tied = set()
    for key, value in model.state_dict(keep_vars=True).items():
        if id(value) in seen:
            tied.add(key)
        seen[id(value)] = key
    return tied
