"""cpu_blocks.c against its numpy reference: the activations quantized as the kernel does, the weights as gguf
dequantizes the blocks; equal up to float rounding, on the VNNI path and on the portable one."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import torch
from gguf import GGMLQuantizationType
from gguf.quants import quantize

from kvcomplete.completion.model.gguf_weights import kernel_folder
from kvcomplete.kernels import cpu_blocks

Q4_K, Q6_K, Q8_0, Q5_0 = (GGMLQuantizationType.Q4_K, GGMLQuantizationType.Q6_K, GGMLQuantizationType.Q8_0,
                          GGMLQuantizationType.Q5_0)
OUT = 24


def built_library():
    """The library `kvcomplete setup` built (building it here would start a compiler: not in the fast tests);
    the test is skipped where there is no C compiler to build it (torch's kernels run then)."""
    if shutil.which(os.environ.get("CC") or "gcc") is None:
        pytest.skip("no C compiler: GGUF blocks run through torch's kernels")
    if not cpu_blocks.library_path(kernel_folder()).is_file():
        pytest.fail("cpu_blocks is not built: run `kvcomplete setup` (make setup) first", pytrace=False)
    library = cpu_blocks.library(kernel_folder())
    assert library is not None
    return library


@pytest.fixture
def lib():
    return built_library()


def random_blocks(qtype: GGMLQuantizationType, rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    """uint8 [rows, bytes per row]: Q8_0 / Q5_0 quantized from normal weights; K-quant blocks as random bytes
    (every byte pattern is a valid block) with their fp16 super-block scales set to small normal numbers."""
    if qtype in cpu_blocks.BY_32:
        return quantize(rng.standard_normal((rows, cols), dtype=np.float32), qtype)
    size, scales_at = {Q4_K: (144, (0, 2)), Q6_K: (210, (208,))}[qtype]
    blocks = rng.integers(0, 256, size=(rows * cols // 256, size), dtype=np.uint8)
    for at in scales_at:
        scale = rng.uniform(0.001, 0.02, size=len(blocks)).astype(np.float16)
        blocks[:, at: at + 2] = scale.view(np.uint8).reshape(-1, 2)
    return blocks.reshape(rows, -1)


def inputs(qtype: GGMLQuantizationType, rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    cols = 544 if qtype in cpu_blocks.BY_32 else 512  # an odd number of 32-blocks: the kernel's tail
    x = rng.standard_normal((rows, cols), dtype=np.float32)
    x[0, :7] = 0.0  # a group with zeros; and one all zero below
    x[-1, -32:] = 0.0
    return random_blocks(qtype, OUT, cols, rng), x


@pytest.mark.parametrize("qtype", [Q4_K, Q6_K, Q8_0, Q5_0], ids=lambda qtype: qtype.name)
@pytest.mark.parametrize("rows", [1, 5, cpu_blocks.MAX_ROWS])
@pytest.mark.parametrize("vnni", [True, False], ids=["vnni", "portable"])
def test_kernel_computes_the_reference(lib, qtype, rows, vnni):
    blocks, x = inputs(qtype, rows)
    expected = cpu_blocks.reference(qtype, blocks, x)
    got = cpu_blocks.matmul(lib, qtype, torch.from_numpy(blocks), torch.from_numpy(x), OUT, vnni=vnni).numpy()
    assert got.shape == (rows, OUT)
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-6 * np.abs(expected).max())


@pytest.mark.parametrize("qtype", [Q4_K, Q6_K, Q8_0, Q5_0], ids=lambda qtype: qtype.name)
def test_vnni_path_equals_the_portable_path(lib, qtype):
    if not lib.cb_vnni_available():
        pytest.skip("this CPU (or build) has no AVX512-VNNI path")
    blocks, x = inputs(qtype, 3, seed=1)
    weights, activations = torch.from_numpy(blocks), torch.from_numpy(x)
    vnni = cpu_blocks.matmul(lib, qtype, weights, activations, OUT, vnni=True)
    portable = cpu_blocks.matmul(lib, qtype, weights, activations, OUT, vnni=False)
    torch.testing.assert_close(vnni, portable, rtol=1e-5, atol=1e-5 * float(portable.abs().max()))


def test_bf16_activations_give_bf16_outputs_of_the_same_sums(lib):
    blocks, x = inputs(Q4_K, 2)
    x_bf16 = torch.from_numpy(x).bfloat16()
    got = cpu_blocks.matmul(lib, Q4_K, torch.from_numpy(blocks), x_bf16, OUT)
    expected = cpu_blocks.reference(Q4_K, blocks, x_bf16.float().numpy())
    assert got.dtype == torch.bfloat16
    np.testing.assert_allclose(got.float().numpy(), expected, rtol=2 ** -8, atol=1e-3 * np.abs(expected).max())


def test_what_the_kernel_does_not_take_is_refused(lib):
    blocks, _ = inputs(Q4_K, 1)
    assert cpu_blocks.takes(Q4_K, 512) and not cpu_blocks.takes(Q4_K, 640) and cpu_blocks.takes(Q8_0, 640)
    assert not cpu_blocks.takes(GGMLQuantizationType.Q5_1, 512)
    too_many = torch.zeros(cpu_blocks.MAX_ROWS + 1, 512)
    with pytest.raises(ValueError, match="Q4_K"):
        cpu_blocks.matmul(lib, Q4_K, torch.from_numpy(blocks), too_many, OUT)
