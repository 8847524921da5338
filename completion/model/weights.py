"""Low-bit weights for the linear layers and the LM head: fewer bytes streamed per token on a CPU.

A narrow forward (one greedy step, a small draft tree) is bound by streaming the weights from memory, so
its cost follows the bytes per weight. Two weight-only formats, both with activations in the model's dtype:

- int8: symmetric, one scale per output channel, through ``torch.ops.aten._weight_int8pack_mm``;
- int4: asymmetric, one scale and zero per group of 32 inputs, through
  ``torch.ops.aten._weight_int4pack_mm_for_cpu`` (w = (q - 8) * scale + zero). The default model's linear
  layers come from a Q4_1 GGUF, whose blocks are exactly this (32 inputs, w = d * q + m: scale = d,
  zero = m + 8 d), so its int4 form recovers the shipped 4-bit weights (up to the scales' rounding).

``int4`` is taken by each layer whose weights are 4-bit already (every group of 32 sits on 16 evenly spaced
levels, as a Q4_1 GGUF's do: int4 then loses nothing); the others, whose int4 rounding would change the
model, take int8.

These kernels are built for few rows: past ``max_rows`` rows (a wide tree, a prefill chunk) they lose to a
dense matmul (docs/benchmarks/step.md), so each layer keeps a dense copy in the model's dtype for wide
forwards: a 135M model's is 270 MB in bf16, and memory is not what a CPU completion is short of. The copy
holds the *dequantised* low-bit weight, so a wide forward computes the same model as a narrow one up to
rounding: a draft tree verified densely chooses the tokens a one-token step would (speculation stays exact).
The LM head stays dense, in the model's dtype: with it int8 (per output channel), suggestion #1 equalled
fp32's on 30 of 46 real-code points, with it dense on 40 (bf16 dense weights throughout: 39). Its logits
decide every token directly, and the default model's GGUF holds it in 8 bits with a scale per 32 inputs,
which one scale per channel cannot reproduce.
"""

from __future__ import annotations

import functools

import torch
from torch import nn

INT4_GROUP = 32  # inputs per int4 group: the GGUF Q4_1 block
INT4_INNER_K_TILES = 2  # the int4 packing's tile layout (any of 1, 2, 4, 8 packs these models' shapes)
MAX_ROWS = {"int8": 16, "int4": 16}  # widest forward run through each low-bit kernel (measured crossover)
LOW_BIT = tuple(MAX_ROWS)
FOUR_BIT_TOLERANCE = 0.1  # a group is 4-bit already when no weight is further than this many steps off a level


class LowBitLinear(nn.Module):
    """A linear layer whose forwards of up to ``max_rows`` rows run a weight-only low-bit kernel.

    Wider forwards run a dense copy (``weight``) where the layer keeps one; a layer loaded from a GGUF keeps
    none (its file is what its user chose to hold in memory) and runs them through the kernel in pieces."""

    def __init__(self, in_features: int, out_features: int, bias: torch.Tensor | None, max_rows: int,
                 weight: nn.Parameter | None = None) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.max_rows = max_rows
        self.weight, self.bias = weight, bias  # the model's parameters, when kept: counts and ties hold

    def use_dequantized(self, dequantized: torch.Tensor) -> None:
        """Make the dense weight, if kept, the low-bit one's value (in the weight's dtype)."""
        if self.weight is not None:
            self.weight.data = dequantized.to(self.weight.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.numel() // self.in_features
        if rows > self.max_rows and self.weight is not None:
            return nn.functional.linear(x, self.weight, self.bias)
        flat = x.reshape(rows, self.in_features).contiguous()
        out = torch.cat([self.low_bit(flat[start: start + self.max_rows])
                         for start in range(0, rows, self.max_rows)]) if rows > self.max_rows else self.low_bit(flat)
        if self.bias is not None:
            out = out + self.bias
        return out.view(*x.shape[:-1], self.out_features)

    def low_bit(self, x: torch.Tensor) -> torch.Tensor:
        """x [rows, in] → [rows, out] through the low-bit kernel."""
        raise NotImplementedError


class Int8Linear(LowBitLinear):
    """One symmetric scale per output channel."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, dtype: torch.dtype,
                 max_rows: int = MAX_ROWS["int8"], dense: nn.Parameter | None = None) -> None:
        """``weight`` [out, in] (any float dtype) quantized; ``dense``: the parameter to keep for wide forwards
        (set to the quantized value), or None to keep none."""
        out_features, in_features = weight.shape
        super().__init__(in_features, out_features, bias, max_rows, dense)
        weight = weight.detach().float()
        scales = weight.abs().amax(dim=1).clamp(min=torch.finfo(torch.float32).tiny) / 127
        self.qweight = (weight / scales[:, None]).round_().clamp_(-127, 127).to(torch.int8)
        self.scales = scales.to(dtype)
        if dense is not None:
            self.use_dequantized(self.qweight.float() * self.scales.float()[:, None])

    @classmethod
    def from_linear(cls, linear: nn.Linear) -> Int8Linear:
        """The layer quantized, keeping its dense parameter for wide forwards."""
        return cls(linear.weight, linear.bias, linear.weight.dtype, dense=linear.weight)

    def low_bit(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.aten._weight_int8pack_mm(x, self.qweight, self.scales)


def four_bit_levels(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(q [out, groups, 32] in 0..15, scale and low [out, groups], fp32 residual of each weight in steps):
    each group of INT4_GROUP inputs on 16 levels from its min to its max (the Q4_1 rule)."""
    out_features, in_features = weight.shape
    groups = weight.detach().float().view(out_features, in_features // INT4_GROUP, INT4_GROUP)
    low, high = groups.amin(dim=2), groups.amax(dim=2)
    scale = ((high - low) / 15).clamp(min=torch.finfo(torch.float32).tiny)
    steps = (groups - low[..., None]) / scale[..., None]
    q = steps.round().clamp(0, 15)
    return q.to(torch.int32), scale, low, (steps - q).abs()


def is_four_bit(linear: nn.Linear) -> bool:
    """Whether the layer's weights are 4-bit already (up to their dtype's rounding): int4 is then lossless."""
    return _lossless_levels(linear) is not None


def _lossless_levels(linear: nn.Linear) -> tuple[torch.Tensor, ...] | None:
    """The layer's four_bit_levels where they hold its weights (it is 4-bit already), else None."""
    if linear.in_features % INT4_GROUP:
        return None
    levels = four_bit_levels(linear.weight)
    return levels if float(levels[3].max()) <= FOUR_BIT_TOLERANCE else None


PACK_BLOCK = 64  # output rows per block of the int4 kernel's packed layout (on CPUs where pack_int4 checked it)


@functools.cache
def _packs_in_row_blocks() -> bool:
    """Whether torch's int4 packing here is PACK_BLOCK-row blocks of low / high nibble halves, k-major: checked
    once on a random matrix, since the layout is the kernel's own and may change with the CPU or torch."""
    q = torch.randint(0, 16, (2 * PACK_BLOCK, 96), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    expected = torch.ops.aten._convert_weight_to_int4pack_for_cpu(q.to(torch.int32), INT4_INNER_K_TILES)
    return torch.equal(_pack_row_blocks(q), expected)


def _pack_row_blocks(q: torch.Tensor) -> torch.Tensor:
    rows, cols = q.shape
    blocks = q.view(rows // PACK_BLOCK, 2, PACK_BLOCK // 2, cols)
    return (blocks[:, 0] | (blocks[:, 1] << 4)).transpose(1, 2).contiguous().view(rows, cols // 2)


def pack_int4(q: torch.Tensor) -> torch.Tensor:
    """q [out, in] in 0..15 → the int4 kernel's packed weight. Loading a GGUF packs every layer: where the
    layout is the known one, built with two byte operations (about 3x faster than torch's packer, which
    wants int32 input)."""
    if q.shape[0] % PACK_BLOCK == 0 and _packs_in_row_blocks():
        return _pack_row_blocks(q.to(torch.uint8))
    return torch.ops.aten._convert_weight_to_int4pack_for_cpu(q.to(torch.int32), INT4_INNER_K_TILES)


class Int4Linear(LowBitLinear):
    """Groups of INT4_GROUP inputs on 16 levels each: w = (q - 8) * scale + zero."""

    def __init__(self, q: torch.Tensor, scale: torch.Tensor, zero: torch.Tensor, bias: torch.Tensor | None,
                 dtype: torch.dtype, max_rows: int = MAX_ROWS["int4"], weight: nn.Parameter | None = None) -> None:
        """``q`` [out, in] in 0..15; ``scale`` and ``zero`` [out, in / INT4_GROUP]; ``weight``: the dense
        parameter to keep for wide forwards (set to the levels' value), or None to keep none."""
        out_features, in_features = q.shape
        super().__init__(in_features, out_features, bias, max_rows, weight)
        self.packed = pack_int4(q)
        # [groups, out, 2]: scale and zero, in the activations' dtype as the kernel wants them
        self.scales_and_zeros = torch.stack((scale, zero), dim=-1).transpose(0, 1).contiguous().to(dtype)
        if weight is not None:
            scale, zero = self.scales_and_zeros.float().transpose(0, 1).unbind(-1)  # [out, groups], as rounded
            groups = q.view(out_features, -1, INT4_GROUP).float()
            self.use_dequantized(((groups - 8) * scale[..., None] + zero[..., None]).view(out_features, in_features))

    @classmethod
    def from_linear(cls, linear: nn.Linear, levels: tuple[torch.Tensor, ...] | None = None) -> Int4Linear:
        """The layer's weights on four_bit_levels (``levels``, when the caller has them already), keeping its
        dense parameter for wide forwards."""
        q, scale, low, _ = levels or four_bit_levels(linear.weight)
        return cls(q.view(linear.out_features, linear.in_features), scale, low + 8 * scale, linear.bias,
                   linear.weight.dtype, weight=linear.weight)

    def low_bit(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.aten._weight_int4pack_mm_for_cpu(x, self.packed, INT4_GROUP, self.scales_and_zeros)


def parameter_count(model: nn.Module) -> int:
    """The model's parameters, counting the weights that low-bit layers hold without a dense copy."""
    return sum(p.numel() for p in model.parameters()) + sum(
        layer.in_features * layer.out_features for layer in model.modules()
        if isinstance(layer, LowBitLinear) and layer.weight is None)


def linear_layers(model: nn.Module) -> list[tuple[nn.Module, str, nn.Linear]]:
    """(parent, attribute, layer) of every nn.Linear of the model but the LM head (which stays dense)."""
    head_layer = model.get_output_embeddings()
    return [(parent, name, child) for parent in model.modules() for name, child in parent.named_children()
            if isinstance(child, nn.Linear) and child is not head_layer]


def all_four_bit(model: nn.Module) -> bool:
    """Whether every linear layer but the LM head is 4-bit already: int4 then computes the same model."""
    layers = linear_layers(model)
    return bool(layers) and all(is_four_bit(layer) for _, _, layer in layers)


def quantize(model: nn.Module, fmt: str) -> dict[str, int]:
    """Replace the model's nn.Linear layers but the LM head by ``fmt`` ones ("int8"; "int4": where it is
    lossless, else int8), in place; how many of each format it holds now."""
    counts: dict[str, int] = {}
    for parent, name, child in linear_layers(model):
        levels = _lossless_levels(child) if fmt == "int4" else None
        kind, layer = ("int8", Int8Linear.from_linear(child)) if levels is None else ("int4", Int4Linear.from_linear(child, levels))
        setattr(parent, name, layer)
        counts[kind] = counts.get(kind, 0) + 1
    return counts
