"""The default model in its CPU defaults (bf16 where native) against its fp32 conversion; its int4 form."""

from __future__ import annotations

import pytest
import torch

from kvcomplete.bench.sources import cut_to_tokens, held_out_modules, indentation, read_module
from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine
from kvcomplete.completion.model.head import HEAD_FORMAT
from kvcomplete.completion.model.loading import load
from kvcomplete.completion.model.precision import resolve

pytestmark = pytest.mark.default_model

# (module, 1-based line): points of `kvcomplete bench step`'s agreement run (docs/benchmarks/step.json) where
# every variant gave fp32's suggestion #1 (23 of 46 points; bf16 alone: 38 of 46); the cursor is after the
# line's indentation, the module cut to 700 tokens as there.
FIXED_POINTS = [("contextlib.py", 28), ("contextlib.py", 45), ("contextlib.py", 57)]


def test_int4_takes_every_gguf_4_bit_layer():
    """Every linear layer of the default model is Q4_1-derived, so int4 takes them all (lossless); the LM
    head stays dense."""
    loaded = load(Settings(device="cpu", weights="int4"))
    assert loaded.info()["weights"] == f"int4 x210, {HEAD_FORMAT}"  # 30 layers x 7 projections
    assert loaded.dtype == resolve("auto", "int4", torch.device("cpu")).dtype


def test_auto_weights_take_int4_where_the_cpu_runs_bf16():
    """weights auto: int4 for the default model (lossless) wherever its dtype resolves to bf16."""
    loaded = load(Settings(device="cpu"))
    auto = resolve("auto", "auto", torch.device("cpu"))
    assert loaded.info()["weights"] == (f"int4 x210, {HEAD_FORMAT}" if auto.only_if_lossless else "dense")
    assert loaded.info()["weights_reason"] == auto.weights_reason


def test_defaults_give_fp32s_first_suggestion_on_fixed_points():
    settings = Settings(device="cpu", suggestions=1, max_tokens=16, speculation=False)
    engines = [Engine(settings.replace(dtype="float32", weights="fp32")), Engine(settings)]
    modules = {path.name: path for path in held_out_modules(every=5, min_chars=20000)}
    for module, line in FIXED_POINTS:
        text = cut_to_tokens(read_module(modules[module]), 700, engines[0].vocab)
        lines = text.split("\n")
        offset = sum(len(each) + 1 for each in lines[: line - 1]) + len(indentation(lines[line - 1]))
        firsts = []
        for engine in engines:
            engine.open(f"file:///{module}", text)
            firsts.append(engine.complete(f"file:///{module}", offset).suggestions[0].text)
            engine.close(f"file:///{module}")
        assert firsts[1] == firsts[0], (module, line, firsts)
