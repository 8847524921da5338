"""What the kernels share about Triton: its import, the interpreter switch, autotuning and backend choice.

Triton is imported only where a kernel can run: with a CUDA device, or under TRITON_INTERPRET=1 (Triton's
interpreter runs the kernels on CPU tensors: the CPU tests). Elsewhere (a CPU daemon, a platform without
Triton wheels) ``triton`` and ``tl`` are None, the decorators below pass functions through unchanged (the kernel
modules still import, ``from __future__ import annotations`` keeping ``tl.constexpr`` unevaluated) and every
public entry point uses its PyTorch reference. ``triton.jit`` and ``triton.language`` read TRITON_INTERPRET when
they are first imported, so the variable must be set before ``kernels`` is.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

import torch

INTERPRET = os.environ.get("TRITON_INTERPRET", "0").lower() in ("1", "true", "on", "yes")


def _import_triton():
    """(triton, triton.language) where a kernel can run, else (None, None)."""
    if not (INTERPRET or torch.cuda.is_available()):
        return None, None
    try:
        import triton
        import triton.language as tl
    except ImportError:  # no wheel for this platform: the references serve
        return None, None
    return triton, tl


triton, tl = _import_triton()
BACKENDS = ("auto", "triton", "reference")


def jit(fn: Callable) -> Callable:
    """``triton.jit``, or ``fn`` itself where Triton is not loaded (it is then never launched)."""
    return fn if triton is None else triton.jit(fn)


def autotune(gpu_configs: list[tuple[dict, int, int]], interpreter_config: dict, key: list[str]) -> Callable:
    """``triton.autotune`` over ``(meta, num_warps, num_stages)`` configs; one fixed config under the interpreter.

    The interpreter cannot time anything and runs every program in Python, so the CPU tests get the single small
    ``interpreter_config`` and no tuning at all.
    """
    if triton is None:
        return lambda fn: fn
    if INTERPRET:
        configs = [triton.Config(interpreter_config)]
    else:
        configs = [triton.Config(meta, num_warps=warps, num_stages=stages) for meta, warps, stages in gpu_configs]
    return triton.autotune(configs=configs, key=key)


def use_triton(backend: str, *tensors: torch.Tensor) -> bool:
    """Resolve ``backend`` for these tensors (see ``triton_runs``)."""
    return triton_runs(backend, all(t.is_cuda for t in tensors))


def triton_runs(backend: str, on_cuda: bool) -> bool:
    """Whether ``backend`` runs the Triton kernels, for tensors on CUDA (``on_cuda``) or on the CPU: "auto" is
    Triton exactly on CUDA (with Triton installed); "triton" insists, and says what is missing where it cannot;
    "reference" never."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "reference":
        return False
    if backend == "auto":
        return triton is not None and on_cuda
    if triton is None or not (on_cuda or INTERPRET):
        raise ValueError(
            "backend='triton' needs the triton package (linux x86_64 wheels) and CUDA tensors, or TRITON_INTERPRET=1 "
            "set before `kernels` is imported to run the kernels on CPU tensors through Triton's interpreter"
        )
    return True


def dot_in_fp32(dtype: torch.dtype) -> bool:
    """Whether the kernels' matmuls run in fp32: for fp32 storage, and always under the interpreter.

    The interpreter multiplies bf16 tiles as raw uint16 (wrong), so it gets fp32 operands; on a GPU bf16/fp16
    tiles go to the tensor cores as they are, and fp32 ones use IEEE fp32 (not TF32) to match the reference.
    """
    return INTERPRET or dtype == torch.float32


def sm_count(device: torch.device) -> int:
    """Streaming multiprocessors of a CUDA device: how many programs it runs at once, give or take occupancy."""
    return _sm_count(device.index if device.index is not None else torch.cuda.current_device())


@functools.cache
def _sm_count(device_index: int) -> int:
    return torch.cuda.get_device_properties(device_index).multi_processor_count
