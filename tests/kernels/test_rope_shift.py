"""rope_shift: shifting composes with a fresh rotation, and the Triton kernel matches the reference on views."""

import pytest
import torch

from kvcomplete.kernels.rope_shift import rope_shift, rope_shift_reference

DTYPES = pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
# bf16: the interpreter rounds fp32 -> bf16 toward zero where a GPU rounds to nearest, so allow one bf16 ulp.
SAME = {torch.float32: {"atol": 1e-5, "rtol": 1e-5}, torch.bfloat16: {"atol": 1e-5, "rtol": 2**-7}}
# A shifted key against a fresh rotation: two roundings of the key, and fp32 angles (error ~ angle * 2^-24).
COMPOSED = {torch.float32: {"atol": 2e-4, "rtol": 1e-4}, torch.bfloat16: {"atol": 3e-2, "rtol": 2e-2}}


def inverse_frequencies(rotary_dim: int, base: float = 10000.0) -> torch.Tensor:
    return 1.0 / base ** (torch.arange(0, rotary_dim, 2, dtype=torch.float32) / rotary_dim)


def rotate_at(raw: torch.Tensor, positions: torch.Tensor, inv_freq: torch.Tensor, rotary_dim: int) -> torch.Tensor:
    """HF's apply_rotary_pos_emb in fp64 (x * cos + rotate_half(x) * sin), on the first rotary_dim features."""
    angle = positions.double()[:, None] * inv_freq.double()[None, :]
    cos, sin = torch.cat((angle, angle), -1).cos(), torch.cat((angle, angle), -1).sin()
    x = raw[..., :rotary_dim].double()
    x1, x2 = x.chunk(2, dim=-1)
    rotated = x * cos + torch.cat((-x2, x1), -1) * sin
    return torch.cat((rotated, raw[..., rotary_dim:].double()), -1)


def shift_positions(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random old positions and new ones moved by an edit (both directions, some unmoved)."""
    gen = torch.Generator().manual_seed(seed)
    positions_from = torch.randint(0, 300, (n,), generator=gen)
    return positions_from, (positions_from + torch.randint(-40, 200, (n,), generator=gen)).clamp(min=0)


@DTYPES
@pytest.mark.parametrize("rotary_dim", [32, 16, 24])
def test_reference_shift_equals_fresh_rotation(dtype, rotary_dim):
    """Keys rotated at a then shifted a -> b equal the unrotated keys rotated at b (partial rotary included)."""
    raw = torch.randn(2, 3, 10, 32, generator=torch.Generator().manual_seed(1))
    positions_from, positions_to = shift_positions(10, seed=2)
    inv_freq = inverse_frequencies(rotary_dim)
    keys = rotate_at(raw, positions_from, inv_freq, rotary_dim).to(dtype)
    assert rope_shift_reference(keys, positions_from, positions_to, inv_freq, rotary_dim) is keys
    expected = rotate_at(raw, positions_to, inv_freq, rotary_dim).to(dtype)
    torch.testing.assert_close(keys, expected, **COMPOSED[dtype])


VIEWS = {
    # name: (cache shape, index of the view the engine would shift)
    "contiguous": ((2, 3, 12, 32), (...,)),
    "token-slice": ((3, 2, 20, 32), (slice(None), slice(None), slice(4, 16))),  # layers x heads merge into one dim
    "head-and-token-slice": ((3, 4, 20, 32), (slice(None), slice(1, None), slice(4, 16))),  # two leading dims
    "transposed": ((4, 3, 20, 32), (slice(None), slice(None), slice(2, 14))),  # leading dims swapped below
    "five-dims": ((2, 2, 2, 12, 32), (...,)),
    "no-leading-dims": ((12, 32), (...,)),
    "one-token": ((2, 3, 20, 32), (slice(None), slice(None), slice(7, 8))),
}


@DTYPES
@pytest.mark.parametrize("rotary_dim", [32, 24])
@pytest.mark.parametrize("view", VIEWS)
def test_triton_matches_reference_on_views(view, rotary_dim, dtype, device):
    """The kernel rotates exactly the view, in place: the rest of the cache is untouched, bit for bit."""
    shape, index = VIEWS[view]
    cache = torch.randn(shape, generator=torch.Generator().manual_seed(3)).to(device=device, dtype=dtype)
    if view == "transposed":
        cache = cache.transpose(0, 1)
    expected = cache.clone()
    n = expected[index].shape[-2]
    positions_from, positions_to = shift_positions(n, seed=4)
    inv_freq = inverse_frequencies(rotary_dim)
    rope_shift_reference(expected[index], positions_from, positions_to, inv_freq, rotary_dim)
    keys = cache[index]
    assert rope_shift(keys, positions_from, positions_to, inv_freq, rotary_dim, backend="triton") is keys
    torch.testing.assert_close(cache, expected, **SAME[dtype])
    outside = torch.ones(cache.shape, dtype=torch.bool)
    outside[index] = False
    assert torch.equal(cache[..., rotary_dim:].cpu(), expected[..., rotary_dim:].cpu()), "non-rotary features moved"
    assert torch.equal(cache.cpu()[outside], expected.cpu()[outside]), "memory outside the view moved"


@DTYPES
def test_triton_shift_equals_fresh_rotation(dtype, device):
    """Through the kernel, with int32 positions on the CPU and the keys elsewhere (the engine's mix)."""
    raw = torch.randn(3, 2, 9, 64, generator=torch.Generator().manual_seed(5))
    positions_from, positions_to = (p.to(torch.int32) for p in shift_positions(9, seed=6))
    inv_freq = inverse_frequencies(64)
    keys = rotate_at(raw, positions_from, inv_freq, 64).to(device=device, dtype=dtype)
    rope_shift(keys, positions_from, positions_to, inv_freq, 64, backend="triton")
    expected = rotate_at(raw, positions_to, inv_freq, 64).to(device=device, dtype=dtype)
    torch.testing.assert_close(keys, expected, **COMPOSED[dtype])


def test_triton_refuses_leading_dims_it_cannot_merge(device):
    keys = torch.zeros(3, 3, 3, 3, 5, 8, device=device)[:2, :2, :2, :2]
    with pytest.raises(ValueError, match="leading dims"):
        rope_shift(keys, torch.zeros(5), torch.ones(5), inverse_frequencies(8), 8, backend="triton")


def test_empty_and_auto():
    keys = torch.randn(2, 0, 8)
    assert rope_shift(keys, torch.zeros(0), torch.zeros(0), inverse_frequencies(8), 8).shape == (2, 0, 8)
    keys = torch.randn(2, 4, 8)
    expected = rope_shift_reference(keys.clone(), torch.arange(4), torch.arange(4) + 3, inverse_frequencies(8), 8)
    rope_shift(keys, torch.arange(4), torch.arange(4) + 3, inverse_frequencies(8), 8)  # CPU tensors: the reference
    assert torch.equal(keys, expected)


def test_triton_matches_reference_large(gpu):
    """The engine's shape: every layer's slice of a [layers, Hkv, capacity, D] bf16 cache in one launch."""
    cache = torch.randn(30, 8, 4096, 128, device=gpu, dtype=torch.bfloat16)
    expected = cache.clone()
    positions_from = torch.arange(1000, 3000, device=gpu)
    positions_to = positions_from + 17
    inv_freq = inverse_frequencies(128).to(gpu)
    rope_shift_reference(expected[:, :, 1000:3000], positions_from, positions_to, inv_freq, 128)
    rope_shift(cache[:, :, 1000:3000], positions_from, positions_to, inv_freq, 128)
    torch.testing.assert_close(cache, expected, atol=1e-5, rtol=2**-7)
