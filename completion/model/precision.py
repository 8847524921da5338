"""Which dtype a model runs in and which format its weights take, and why: the `dtype` and `weights` settings.

On a GPU, bfloat16. On a CPU, bfloat16 only where the CPU has native bf16 arithmetic (the AVX512_BF16 or AMX
BF16 instructions, as cpuinfo reports them through ``torch.cpu.get_capabilities``): there a bf16 step streams
half the bytes of fp32 and the matmuls run on dot-product instructions, which measured faster at every width
(docs/benchmarks/step.md). Elsewhere bf16 is emulated through fp32 conversions and is slower than fp32, so
auto stays at float32. The reason travels with the choice into `kvcomplete info` and `kvcomplete/stats`.

``weights`` picks the linear layers' format (completion/model/weights.py): ``bf16`` / ``fp32`` keep them dense in
that dtype (and set the dtype when it is auto); ``int8`` / ``int4`` are weight-only CPU kernels for narrow
forwards. ``auto`` on a CPU running bf16 takes int4 where it is lossless: when every linear layer but the LM
head is 4-bit already (the default model's are: its GGUF is Q4_1), int4 computes the same model from a quarter
of the bytes, and its one-token step measured about twice as fast as dense bf16 with suggestion #1 as often
equal to fp32's (docs/benchmarks/step.md). Other models stay dense: int8, or int4 of weights that are not
4-bit, changes the model, so those are opt-in. The int4 kernel needs bf16 activations (in fp32 it measured
25x slower than in bf16), so a CPU without native bf16 stays dense too.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from kvcomplete.completion.model.weights import LOW_BIT

# cpuinfo's names (torch.cpu.get_capabilities) of the instruction sets that compute bf16 natively.
NATIVE_BF16_FEATURES = ("avx512_bf16", "amx_bf16")
DENSE_WEIGHTS = {"bf16": torch.bfloat16, "fp32": torch.float32}


class PrecisionError(ValueError):
    """A dtype and weights format that cannot go together here."""


@dataclass(frozen=True, slots=True)
class Precision:
    dtype: torch.dtype
    dtype_reason: str
    weights: str  # "dense" or a low-bit format of completion/model/weights.py
    weights_reason: str
    only_if_lossless: bool = False  # auto's int4: taken only if every layer is 4-bit already (else dense)


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


def resolve(dtype: str, weights: str, device: torch.device) -> Precision:
    """The dtype and weights format for the ``dtype`` and ``weights`` settings on ``device``."""
    if weights in DENSE_WEIGHTS:
        wanted = DENSE_WEIGHTS[weights]
        if dtype != "auto" and getattr(torch, dtype) != wanted:
            raise PrecisionError(f"weights {weights!r} needs dtype {str(wanted).removeprefix('torch.')} or auto, "
                                 f"not {dtype!r}")
        return Precision(wanted, f"weights {weights}", "dense", "set")
    resolved, why = resolve_dtype(dtype, device)
    if weights in LOW_BIT:
        if device.type != "cpu":
            raise PrecisionError(f"weights {weights!r} runs CPU kernels; on {device.type} use weights auto or bf16")
        return Precision(resolved, why, weights, "set")
    if device.type != "cpu":
        return Precision(resolved, why, "dense", "auto: GPU")
    if resolved != torch.bfloat16:
        return Precision(resolved, why, "dense", "auto: dense (the int4 kernel is slow without bf16)")
    return Precision(resolved, why, "int4", "auto: int4, the weights being 4-bit already (lossless)",
                     only_if_lossless=True)


NOT_FOUR_BIT = "auto: dense (the weights are not 4-bit: int4 would change the model)"
