"""Re-rotation of cached rotary keys to new positions (PIE).

RoPE rotates each (x1, x2) pair of a key by ``position * inv_freq``. Rotations compose, so a key encoded at
position ``p_from`` is moved to ``p_to`` by one more rotation of ``(p_to - p_from) * inv_freq``. The angle and
the rotation are computed in fp32 whatever the storage dtype, from the model's inverse frequencies (never from
HF's cos/sin, which carry YaRN's attention scaling). Only the first ``rotary_dim`` features rotate (partial
rotary, GPT-NeoX / Phi), in HF's ``rotate_half`` layout: pairs are (i, i + rotary_dim/2).

The Triton kernel is memory-bound: it reads and writes the rotary features of the keys once, in place. A program
takes BLOCK_N tokens, computes their cos/sin once ([BLOCK_N, rotary_dim/2] in fp32), then walks a share of the
leading rows (layers x heads), so the engine's re-rotation of every layer is one launch. The leading dims are
addressed through their strides (a slice ``cache[:, :, a:b]`` of a [layers, Hkv, capacity, D] cache is not
contiguous and is never copied).
"""

from __future__ import annotations

import torch

from kvcomplete.kernels._triton import jit, sm_count, tl, use_triton

_BLOCK_N = 32  # tokens per program: cos/sin tile of 32 x rotary_dim/2 fp32 stays in registers
_MAX_LEADING = 3  # leading dims after merging those that memory lets merge


@jit
def _rope_shift_kernel(
    keys, positions_from, positions_to, inv_freq,
    n_tokens, half, n_rows, rows_per_program, size1, size2, stride0, stride1, stride2, stride_n, stride_d,
    BLOCK_N: tl.constexpr, BLOCK_HALF: tl.constexpr,
):  # fmt: skip
    """Rotate keys [size0, size1, size2, N, D] (strided) in place by (to - from) * inv_freq, in fp32."""
    tokens = tl.program_id(0) * BLOCK_N + tl.arange(0, BLOCK_N)
    freqs = tl.arange(0, BLOCK_HALF)
    token_ok, freq_ok = tokens < n_tokens, freqs < half
    delta = tl.load(positions_to + tokens, mask=token_ok, other=0).to(tl.float32)
    delta -= tl.load(positions_from + tokens, mask=token_ok, other=0).to(tl.float32)
    angle = delta[:, None] * tl.load(inv_freq + freqs, mask=freq_ok, other=0.0)[None, :]  # [BLOCK_N, BLOCK_HALF]
    cos, sin = tl.cos(angle), tl.sin(angle)
    first = tokens[:, None] * stride_n + freqs[None, :] * stride_d  # x1 = features [0, half), x2 = [half, 2*half)
    mask = token_ok[:, None] & freq_ok[None, :]
    first_row = tl.program_id(1).to(tl.int64) * rows_per_program
    for row in range(first_row, tl.minimum(first_row + rows_per_program, n_rows)):
        lead = (row // (size1 * size2)) * stride0 + (row // size2 % size1) * stride1 + (row % size2) * stride2
        ptr1 = keys + lead + first
        ptr2 = ptr1 + half * stride_d
        x1 = tl.load(ptr1, mask=mask, other=0.0).to(tl.float32)
        x2 = tl.load(ptr2, mask=mask, other=0.0).to(tl.float32)
        tl.store(ptr1, (x1 * cos - x2 * sin).to(keys.dtype.element_ty), mask=mask)
        tl.store(ptr2, (x2 * cos + x1 * sin).to(keys.dtype.element_ty), mask=mask)


def rope_shift_reference(
    keys: torch.Tensor,
    positions_from: torch.Tensor,
    positions_to: torch.Tensor,
    inv_freq: torch.Tensor,
    rotary_dim: int,
) -> torch.Tensor:
    """Rotate ``keys`` in place from ``positions_from`` to ``positions_to``; returns ``keys``.

    keys: [..., N, D] (any leading dims: layers, batch, heads), positions_*: [N] integer, inv_freq: [rotary_dim/2].
    """
    n, head_dim = keys.shape[-2], keys.shape[-1]
    half = rotary_dim // 2
    assert positions_from.shape == (n,) and positions_to.shape == (n,), "one position pair per token"
    assert inv_freq.shape == (half,) and rotary_dim % 2 == 0 and rotary_dim <= head_dim
    delta = (positions_to.to(torch.float32) - positions_from.to(torch.float32)).to(keys.device)
    angle = delta[:, None] * inv_freq.to(device=keys.device, dtype=torch.float32)[None, :]  # [N, half]
    cos, sin = angle.cos(), angle.sin()
    x1 = keys[..., :half].to(torch.float32)
    x2 = keys[..., half:rotary_dim].to(torch.float32)
    rotated = torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)
    keys[..., :rotary_dim] = rotated.to(keys.dtype)
    return keys


def rope_shift(
    keys: torch.Tensor,
    positions_from: torch.Tensor,
    positions_to: torch.Tensor,
    inv_freq: torch.Tensor,
    rotary_dim: int,
    *,
    backend: str = "auto",
) -> torch.Tensor:
    """In-place re-rotation, as ``rope_shift_reference``; returns ``keys``.

    backend: "auto" (the Triton kernel on CUDA, the reference elsewhere), "triton" (also CPU tensors under
    TRITON_INTERPRET=1) or "reference". The Triton path takes any strided view of keys: all leading dims (layers,
    heads) in one launch, no copy.
    """
    if not use_triton(backend, keys):
        return rope_shift_reference(keys, positions_from, positions_to, inv_freq, rotary_dim)
    n, half = keys.shape[-2], rotary_dim // 2
    assert positions_from.shape == (n,) and positions_to.shape == (n,), "one position pair per token"
    assert inv_freq.shape == (half,) and rotary_dim % 2 == 0 and rotary_dim <= keys.shape[-1]
    sizes, strides = _leading_dims(keys)
    n_rows = sizes[0] * sizes[1] * sizes[2]
    if n == 0 or half == 0 or n_rows == 0:
        return keys
    token_blocks = -(-n // _BLOCK_N)
    row_groups = min(n_rows, -(-_target_programs(keys.device) // token_blocks))
    rows_per_program = -(-n_rows // row_groups)
    grid = (token_blocks, -(-n_rows // rows_per_program))
    _rope_shift_kernel[grid](
        keys, positions_from.to(keys.device), positions_to.to(keys.device),
        inv_freq.to(device=keys.device, dtype=torch.float32),
        n, half, n_rows, rows_per_program, sizes[1], sizes[2], *strides, keys.stride(-2), keys.stride(-1),
        BLOCK_N=_BLOCK_N, BLOCK_HALF=max(1, 1 << (half - 1).bit_length()),
    )  # fmt: skip
    return keys


def _leading_dims(keys: torch.Tensor) -> tuple[list[int], list[int]]:
    """keys [..., N, D]'s leading dims as exactly three (size, stride) pairs, merging neighbours that memory
    lets merge (a [layers, Hkv] block with heads contiguous is one dim) and padding with size-1 dims in front."""
    sizes: list[int] = []
    strides: list[int] = []
    for size, stride in zip(keys.shape[:-2], keys.stride()[:-2]):
        if size == 1:
            continue
        if sizes and strides[-1] == stride * size:
            sizes[-1], strides[-1] = sizes[-1] * size, stride
        else:
            sizes.append(size)
            strides.append(stride)
    if len(sizes) > _MAX_LEADING:
        raise ValueError(f"rope_shift: keys {tuple(keys.shape)} with strides {keys.stride()} has more than "
                         f"{_MAX_LEADING} leading dims that cannot merge; pass a view with fewer")
    pad = _MAX_LEADING - len(sizes)
    return [1] * pad + sizes, [0] * pad + strides


def _target_programs(device: torch.device) -> int:
    """Programs worth launching: a few per SM on a GPU; one per token block under the interpreter."""
    return 4 * sm_count(device) if device.type == "cuda" else 1
