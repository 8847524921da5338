"""The low-bit cost record: measured against the same model's dense weights, kept per weight files and format,
shown by `kvcomplete info`."""

from __future__ import annotations

import os

import pytest

from kvcomplete import low_bit_cost
from kvcomplete.completion.config import Settings
from kvcomplete.completion.model.loading import load


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KVCOMPLETE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_measured_once_then_shown(home, tiny_model_dir):
    settings = Settings(model=str(tiny_model_dir), device="cpu", dtype="bfloat16", weights="int8")
    loaded = load(settings)
    assert "--weights int8 --measure" in low_bit_cost.summary(settings, loaded)
    dense = load(low_bit_cost.dense_settings(settings, loaded))
    assert dense.weights == "dense" and dense.dtype == loaded.dtype

    record = low_bit_cost.measure(loaded, dense)
    assert 0 < record["points"] <= low_bit_cost.MODULES * low_bit_cost.PER_MODULE
    assert 0 <= record["same_first_suggestion"] <= record["points"]
    assert record["ms_per_token"] > 0 and record["dense_ms_per_token"] > 0
    low_bit_cost.save(low_bit_cost.record_path(settings, loaded), record)
    shown = low_bit_cost.summary(settings, loaded)
    assert f"on {record['same_first_suggestion']} of {record['points']} points" in shown, shown


def test_a_record_belongs_to_its_files_and_format(home, tiny_model_dir, tmp_path):
    settings = Settings(model=str(tiny_model_dir), device="cpu", dtype="bfloat16", weights="int8")
    int8, int8_fp32 = load(settings), load(settings.replace(dtype="float32"))
    path = low_bit_cost.record_path(settings, int8)
    assert path != low_bit_cost.record_path(settings.replace(dtype="float32"), int8_fp32)
    weights = next(tiny_model_dir.glob("*.safetensors"))
    stat = weights.stat()
    try:
        os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert low_bit_cost.record_path(settings, int8) != path  # new weights: the old record does not apply
    finally:
        os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_dense_weights_show_nothing(home, tiny_model_dir):
    settings = Settings(model=str(tiny_model_dir), device="cpu", dtype="bfloat16", weights="bf16")
    assert low_bit_cost.summary(settings, load(settings)) is None
