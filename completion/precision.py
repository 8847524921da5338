"""Which floating-point dtype a model runs in, and why: `dtype: auto` decided from what the hardware computes.

On a GPU, bfloat16. On a CPU, bfloat16 only where the CPU has native bf16 arithmetic (the AVX512_BF16 or AMX
BF16 instructions, as cpuinfo reports them through ``torch.cpu.get_capabilities``): there a bf16 step streams
half the bytes of fp32 and the matmuls run on dot-product instructions, which measured faster at every width
(docs/benchmarks/step.md). Elsewhere bf16 is emulated through fp32 conversions and is slower than fp32, so
auto stays at float32. The reason travels with the choice into `kvcomplete info` and `kvcomplete/stats`.
"""

from __future__ import annotations

import torch

# cpuinfo's names (torch.cpu.get_capabilities) of the instruction sets that compute bf16 natively.
NATIVE_BF16_FEATURES = ("avx512_bf16", "amx_bf16")


def native_bf16_features() -> list[str]:
    """The instruction sets of this CPU that compute bf16 natively (empty when none, or unknown)."""
    try:
        capabilities = torch.cpu.get_capabilities()
    except (AttributeError, RuntimeError):  # older torch, or a platform cpuinfo does not know
        return []
    return [name for name in NATIVE_BF16_FEATURES if capabilities.get(name)]


def resolve_dtype(requested: str, device: torch.device) -> tuple[torch.dtype, str]:
    """(dtype, why) for the ``dtype`` setting on ``device``."""
    if requested != "auto":
        return getattr(torch, requested), "set"
    if device.type == "cuda":
        return torch.bfloat16, "auto: GPU"
    features = native_bf16_features()
    if features:
        return torch.bfloat16, f"auto: CPU computes bf16 natively ({', '.join(features)})"
    return torch.float32, "auto: CPU without native bf16 (no avx512_bf16 / amx_bf16)"
