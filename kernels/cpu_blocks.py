"""cpu_blocks.c built for this CPU and called through ctypes: a linear layer straight from a GGUF's blocks
(Q4_K, Q6_K, Q8_0, Q5_0).

The library is compiled once per source, compiler flags and CPU (``-march=native``) into a folder its caller
names (the user cache: ``kvcomplete setup`` builds it there, else the first use); without gcc, or when the build
fails, ``library()`` is None and the callers keep torch's kernels (one log line says why). ``reference`` is the
same computation in numpy (the activations quantized as the kernel does, the weights as gguf dequantizes them):
the kernel's test oracle.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import torch
from gguf import GGMLQuantizationType, dequantize

SOURCE = Path(__file__).with_name("cpu_blocks.c")
FLAGS = ("-O3", "-march=native", "-fopenmp", "-shared", "-fPIC")
LIBRARIES = ("-lm",)
TYPES = (GGMLQuantizationType.Q4_K, GGMLQuantizationType.Q6_K, GGMLQuantizationType.Q8_0, GGMLQuantizationType.Q5_0)
BY_32 = (GGMLQuantizationType.Q8_0, GGMLQuantizationType.Q5_0)  # blocks of 32 inputs (the K-quants: 256)
MAX_ROWS = 16  # activation rows one call takes (cpu_blocks.c MAX_ROWS)
log = logging.getLogger(__name__)


def library_path(folder: Path) -> Path:
    """Where this source, built with FLAGS for this CPU, lives in ``folder``."""
    built_from = SOURCE.read_bytes() + " ".join(FLAGS + LIBRARIES).encode() + _cpu_flags().encode()
    key = hashlib.sha256(built_from).hexdigest()[:16]
    return folder / f"cpu_blocks-{key}.so"


def _cpu_flags() -> str:
    try:
        return next((line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")), "")
    except OSError:
        return ""


def build(folder: Path) -> Path | None:
    """Compile the library into ``folder`` unless it is built there already; its path, or None (logged) when it
    cannot be built."""
    target = library_path(folder)
    if target.is_file():
        return target
    compiler = shutil.which(os.environ.get("CC") or "gcc")
    if compiler is None:
        log.warning("no C compiler (gcc): GGUF blocks run through torch's int4 / int8 kernels instead")
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    result = subprocess.run([compiler, *FLAGS, "-o", str(partial), str(SOURCE), *LIBRARIES], check=False,
                            capture_output=True, text=True)
    if result.returncode:
        log.warning("building %s failed (torch's int4 / int8 kernels instead): %s", SOURCE.name,
                    result.stderr.strip()[-500:])
        partial.unlink(missing_ok=True)
        return None
    partial.rename(target)
    for stale in target.parent.glob("cpu_blocks-*.so"):  # builds of older sources or other flags
        if stale != target:
            stale.unlink(missing_ok=True)
    return target


@functools.cache
def library(folder: Path) -> ctypes.CDLL | None:
    """The library loaded from ``folder`` (built first if needed), or None when it cannot be had."""
    path = build(folder)
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as error:
        log.warning("loading %s failed (torch's int4 / int8 kernels instead): %s", path.name, error)
        return None
    lib.cb_matmul.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p,
                              ctypes.c_void_p, ctypes.c_int64, ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.cb_matmul.restype = ctypes.c_int
    lib.cb_vnni_available.restype = ctypes.c_int
    return lib


def group(qtype: GGMLQuantizationType) -> int:
    """Inputs per block of ``qtype``, the activations' quantization group with it: 32, the K-quants' 256."""
    return 32 if qtype in BY_32 else 256


def takes(qtype: GGMLQuantizationType, in_features: int) -> bool:
    """Whether the kernel computes a layer of ``qtype`` blocks with ``in_features`` inputs."""
    return qtype in TYPES and in_features % group(qtype) == 0


def matmul(lib: ctypes.CDLL, qtype: GGMLQuantizationType, blocks: torch.Tensor, x: torch.Tensor, out_features: int,
           vnni: bool = True) -> torch.Tensor:
    """x [rows <= MAX_ROWS, in] (bf16 or fp32, contiguous) @ W^T → [rows, out_features] in x's dtype, W being
    ``blocks`` (uint8 [out_features, bytes per row], the file's bytes), through ``lib`` (``library()``'s).
    ``vnni=False``: the portable path."""
    rows, in_features = x.shape
    assert x.dtype in (torch.bfloat16, torch.float32) and x.is_contiguous() and blocks.shape[0] == out_features
    out = torch.empty(rows, out_features, dtype=x.dtype)
    status = lib.cb_matmul(int(qtype), blocks.data_ptr(), out_features, in_features, x.data_ptr(), out.data_ptr(),
                           rows, x.dtype == torch.bfloat16, torch.get_num_threads(), vnni)
    if status:
        raise ValueError(f"cpu_blocks refused {qtype.name} [{out_features}, {in_features}] x {rows} rows ({status})")
    return out


def quantize_activations(x: np.ndarray, group: int) -> tuple[np.ndarray, np.ndarray]:
    """x [rows, in] fp32 → (q int8 [rows, in], scale [rows, in / group]): x ~ q * scale per group, as the
    kernel rounds it (scale = max |x| / 127)."""
    groups = x.astype(np.float32).reshape(x.shape[0], -1, group)
    amax = np.abs(groups).max(axis=2)
    inverse = np.where(amax > 0, np.float32(127) / np.where(amax > 0, amax, 1), 0).astype(np.float32)
    q = np.rint(groups * inverse[..., None]).astype(np.int8)
    return q.reshape(x.shape), (amax / np.float32(127)).astype(np.float32)


def reference(qtype: GGMLQuantizationType, blocks: np.ndarray, x: np.ndarray) -> np.ndarray:
    """What the kernel computes, in float64: the activations quantized per group of the weight type's scale
    group, times the blocks' weights as gguf dequantizes them."""
    size = group(qtype)
    q, scale = quantize_activations(x, size)
    values = (q.reshape(q.shape[0], -1, size).astype(np.float64) * scale[..., None]).reshape(q.shape)
    return values @ dequantize(blocks, qtype).astype(np.float64).T
