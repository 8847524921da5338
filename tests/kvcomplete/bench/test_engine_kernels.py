"""The engine-level kernels benchmark, end to end at a tiny scale (the GPU check runs it at Qwen2-1.5B's shape)."""

from __future__ import annotations

import json

import pytest
import torch

from kvcomplete.bench import engine_kernels
from kvcomplete.bench.engine_kernels import BenchConfig, markdown, run


@pytest.mark.slow  # a model built and run under both kernel paths
def test_tiny_run_measures_every_section(tokenizer):
    cfg = BenchConfig(torch.device("cpu"), shape="tiny", dtype=torch.float32, contexts=(48,), hidden=8, widths=(1, 5),
                      warmup=0, reps=1, requests=1, document_chars=600, max_tokens=2, suggestions=(1,),
                      step_contexts=(40,), step_widths=(1, 3))
    report = json.loads(json.dumps(run(cfg, tokenizer)))
    assert [(row["kernels"], row["width"]) for row in report["verify"]] == [
        ("torch", 1), ("triton", 1), ("torch", 5), ("triton", 5)]
    assert all(row["ms"] > 0 and row["max_logit_diff"] < 1e-3 for row in report["verify"])
    assert [(row["kernels"], row["edit"]) for row in report["pie"]] == [
        (kernels, edit) for kernels in ("torch", "triton") for edit in ("insert", "delete")]
    assert all(row["max_key_diff"] < 1e-4 and row["moved_tokens"] == 40 for row in report["pie"])
    complete = report["complete"]
    assert [(row["kernels"], row["speculation"]) for row in complete] == [
        (kernels, flag) for kernels in ("torch", "triton") for flag in (False, True)]
    assert all(row["first_equals_torch_greedy"] == 1 and row["forwards"] > 0 for row in complete)
    assert [(row["compiled"], row["width"]) for row in report["step"]] == [(False, 1), (False, 3)]
    assert all(row["ms"] > 0 and row["context"] == 40 for row in report["step"])
    assert report["model"]["num_hidden_layers"] == 2 and report["model"]["vocab_size"] == len(tokenizer)
    table = markdown(report)
    assert "### verify" in table and "### pie" in table and "### step" in table and "| triton | 1 | True |" in table


def test_missing_tokenizer_is_reported(tmp_path, capsys):
    assert engine_kernels.main(["--tokenizer", str(tmp_path), "--device", "cpu"]) == 2
    assert "no tokenizer in" in capsys.readouterr().err


def test_unknown_shape_is_refused():
    with pytest.raises(ValueError, match="shape must be one of"):
        BenchConfig(torch.device("cpu"), shape="qwen2-72b")
