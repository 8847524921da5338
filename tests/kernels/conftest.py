"""Kernel tests run compiled on a GPU and through Triton's interpreter on CPU tensors elsewhere.

Triton reads TRITON_INTERPRET when it is imported and when it decorates a kernel, and kernels/_triton.py decides
once, when ``kernels`` is first imported, whether Triton runs. tests/conftest.py sets the variable (without CUDA)
before any test module is collected, so every import of ``kernels`` in a test run already sees it: no module is
reloaded here.
"""

import os
import sys

import pytest
import torch

# Imported before tests/conftest.py could set the switch (a plugin, PYTHONSTARTUP): compiled-only language functions.
TRITON_IMPORTED_COMPILED = "triton" in sys.modules and "TRITON_INTERPRET" not in os.environ


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
