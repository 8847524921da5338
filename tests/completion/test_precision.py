"""dtype auto: bfloat16 where the CPU computes it natively, float32 elsewhere; forced choices; the reason."""

from __future__ import annotations

import pytest
import torch

from completion import precision
from completion.config import Settings
from completion.models import load
from tests.tiny_models import save_tiny_model

CPU = torch.device("cpu")


def with_capabilities(monkeypatch, **flags) -> None:
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {"avx512_f": True, **flags})


@pytest.mark.parametrize("flag", ["avx512_bf16", "amx_bf16"])
def test_auto_is_bf16_where_the_cpu_computes_it(monkeypatch, flag):
    with_capabilities(monkeypatch, **{flag: True})
    dtype, reason = precision.resolve_dtype("auto", CPU)
    assert dtype == torch.bfloat16 and flag in reason


def test_auto_is_fp32_without_native_bf16(monkeypatch):
    with_capabilities(monkeypatch, avx512_bf16=False)
    dtype, reason = precision.resolve_dtype("auto", CPU)
    assert dtype == torch.float32 and "without native bf16" in reason


def test_unknown_capabilities_mean_fp32(monkeypatch):
    def unknown():
        raise RuntimeError("cpuinfo cannot read this CPU")

    monkeypatch.setattr(torch.cpu, "get_capabilities", unknown)
    assert precision.resolve_dtype("auto", CPU)[0] == torch.float32


def test_forced_choices_and_gpu(monkeypatch):
    with_capabilities(monkeypatch, avx512_bf16=False)
    assert precision.resolve_dtype("bfloat16", CPU) == (torch.bfloat16, "set")
    assert precision.resolve_dtype("float32", CPU) == (torch.float32, "set")
    assert precision.resolve_dtype("auto", torch.device("cuda")) == (torch.bfloat16, "auto: GPU")


@pytest.mark.parametrize("requested, flags, expected", [
    ("auto", {"avx512_bf16": True}, "bfloat16"), ("auto", {}, "float32"), ("float32", {"avx512_bf16": True}, "float32"),
    ("bfloat16", {}, "bfloat16")])
def test_the_choice_is_in_info(monkeypatch, tmp_path, tokenizer, requested, flags, expected):
    """What `kvcomplete info` (and kvcomplete/stats) shows: the dtype loaded and why."""
    with_capabilities(monkeypatch, **flags)
    loaded = load(Settings(model=str(save_tiny_model("llama", tmp_path, tokenizer)), device="cpu", dtype=requested))
    info = loaded.info()
    assert info["dtype"] == expected and info["dtype_reason"] == precision.resolve_dtype(requested, CPU)[1]
    assert next(loaded.model.parameters()).dtype == getattr(torch, expected)
