"""Kernel tests run compiled on a GPU and through Triton's interpreter on CPU tensors elsewhere.

Triton reads TRITON_INTERPRET when it is imported and when it decorates a kernel, so without CUDA the variable is
set here, before these tests import the kernel modules. The engine's tests, collected earlier, may have imported
``kernels`` already: on CPU that loads no Triton (kernels._triton imports it only where a kernel can run), and
the kernel modules are re-executed here so that they load it in interpreter mode.
"""

import importlib
import os
import sys

import pytest
import torch

# Imported before the switch (by something other than `kernels`): its language functions are compiled-only.
TRITON_IMPORTED_COMPILED = "triton" in sys.modules and "TRITON_INTERPRET" not in os.environ

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
    for name in ("kernels._triton", "kernels.tree_attention", "kernels.rope_shift"):
        if name in sys.modules:
            importlib.reload(sys.modules[name])


@pytest.fixture
def device() -> torch.device:
    """Where the Triton kernels run: the GPU, else the CPU through the interpreter (tiny shapes only there)."""
    pytest.importorskip("triton", reason="triton is not installed (linux x86_64 wheels only)")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if TRITON_IMPORTED_COMPILED:
        pytest.fail("triton was imported before tests/kernels/conftest.py could set TRITON_INTERPRET=1; export "
                    "TRITON_INTERPRET=1 for the whole run, or run tests/kernels on its own")
    return torch.device("cpu")


@pytest.fixture
def gpu() -> torch.device:
    """The CUDA device, for the large shapes that only a compiled run can afford."""
    if not torch.cuda.is_available():
        pytest.skip("large shapes run compiled on a CUDA GPU only; none is available here")
    pytest.importorskip("triton", reason="triton is not installed (linux x86_64 wheels only)")
    return torch.device("cuda")
