"""dtype auto: bfloat16 where the CPU computes it natively, float32 elsewhere; forced choices; the reason."""

from __future__ import annotations

import pytest
import torch

from kvcomplete.completion.cache.session import EditMode, Session
from kvcomplete.completion.config import WEIGHTS, Settings
from kvcomplete.completion.model import precision
from kvcomplete.completion.model.head import HEAD_FORMAT
from kvcomplete.completion.model.loading import load
from kvcomplete.completion.model.runner import ModelRunner
from kvcomplete.completion.model.spec import ModelError
from kvcomplete.completion.model.weights import LOW_BIT
from kvcomplete.completion.text.mirror import TokenEdit

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
def test_the_choice_is_in_info(monkeypatch, save_tiny_model, tmp_path, tokenizer, requested, flags, expected):
    """What `kvcomplete info` (and kvcomplete/stats) shows: the dtype loaded and why."""
    with_capabilities(monkeypatch, **flags)
    loaded = load(Settings(model=str(save_tiny_model("llama", tmp_path, tokenizer)), device="cpu", dtype=requested))
    info = loaded.info()
    assert info["dtype"] == expected and info["dtype_reason"] == precision.resolve_dtype(requested, CPU)[1]
    assert next(loaded.model.parameters()).dtype == getattr(torch, expected)


def test_weights_settings_resolve(monkeypatch):
    with_capabilities(monkeypatch, avx512_bf16=True)
    cuda = torch.device("cuda")
    assert set(LOW_BIT) | set(precision.DENSE_WEIGHTS) | {"auto"} == set(WEIGHTS)
    bf16 = precision.resolve("auto", "bf16", CPU)
    assert (bf16.dtype, bf16.dtype_reason, bf16.weights) == (torch.bfloat16, "weights bf16", "dense")
    assert precision.resolve("auto", "fp32", CPU).dtype == torch.float32
    int8 = precision.resolve("float32", "int8", CPU)
    assert (int8.dtype, int8.weights, int8.weights_reason) == (torch.float32, "int8", "set")
    auto = precision.resolve("auto", "auto", CPU)
    assert (auto.dtype, auto.weights, auto.only_if_lossless) == (torch.bfloat16, "int4", True)
    assert precision.resolve("float32", "auto", CPU).weights == "dense", "the int4 kernel is slow in fp32"
    with_capabilities(monkeypatch, avx512_bf16=False)
    assert precision.resolve("auto", "auto", CPU).weights == "dense"
    on_gpu = precision.resolve("auto", "auto", cuda)
    assert (on_gpu.dtype, on_gpu.weights) == (torch.bfloat16, "dense")
    with pytest.raises(precision.PrecisionError, match="needs dtype bfloat16"):
        precision.resolve("float32", "bf16", CPU)
    with pytest.raises(precision.PrecisionError, match="CPU kernels"):
        precision.resolve("auto", "int4", cuda)


@pytest.mark.parametrize("requested, layers", [("auto", "dense"), ("int4", f"int8 x14, {HEAD_FORMAT}"), ("fp32", "dense")])
def test_the_weights_format_is_in_info(monkeypatch, save_tiny_model, tmp_path, tokenizer, requested, layers):
    """A random model's weights are not 4-bit: auto keeps them dense, int4 leaves them to int8 (the LM head
    is dense in any case)."""
    with_capabilities(monkeypatch, avx512_bf16=True)
    loaded = load(Settings(model=str(save_tiny_model("llama", tmp_path, tokenizer)), device="cpu", weights=requested))
    expected = precision.resolve("auto", requested, CPU)
    reason = precision.NOT_FOUR_BIT if expected.only_if_lossless else expected.weights_reason
    assert (loaded.info()["weights"], loaded.info()["weights_reason"]) == (layers, reason)
    assert (loaded.dtype, loaded.info()["dtype_reason"]) == (expected.dtype, expected.dtype_reason)


def test_a_conflicting_dtype_is_refused(save_tiny_model, tmp_path, tokenizer):
    with pytest.raises(ModelError, match="needs dtype float32"):
        load(Settings(model=str(save_tiny_model("llama", tmp_path, tokenizer)), dtype="bfloat16", weights="fp32"))


@pytest.mark.parametrize("family", ["llama", "phi"])  # GQA with full rotary; partial rotary
def test_pie_in_bf16_rotates_from_the_original_keys(save_tiny_model, tmp_path, tokenizer, family):
    """Keys moved away by edits and back again are bit-identical to the encoded ones in bf16: PIE re-rotates
    from ``original_keys`` with fp32 angles each time, so no rounding accumulates over edits (chained bf16
    shifts would drift)."""
    loaded = load(Settings(model=str(save_tiny_model(family, tmp_path, tokenizer)), device="cpu", dtype="bfloat16",
                           weights="bf16"))
    session = Session(ModelRunner(loaded, "torch"), list(range(100, 140)), EditMode.PIE)
    store = session.store
    encoded = store.keys[:, :, 10:40].clone()
    edits = [TokenEdit(10, 0, (7, 8, 9, 11, 12)), TokenEdit(2, 0, (13, 14, 15)), TokenEdit(2, 3, ()),
             TokenEdit(10, 5, ())]
    for edit in edits[:2]:
        session.apply(edit)
    assert not torch.equal(store.keys[:, :, 18:48], encoded), "the suffix moved 8 positions: rotated keys differ"
    for edit in edits[2:]:
        session.apply(edit)
    assert session.tokens == list(range(100, 140))
    assert torch.equal(store.keys[:, :, 10:40], encoded)
