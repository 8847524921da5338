"""kvcomplete bench kernels: exit code without CUDA, the peak table, and a tiny run of every row end to end."""

import json

import pytest
import torch

from kvcomplete.kernels.bench import BenchConfig, main, markdown, peak_bandwidth, run_benchmarks


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message and exit code of a machine without CUDA")
def test_without_cuda_says_so_and_exits_2(capsys):
    assert main(["--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "no CUDA device" in captured.err


@pytest.mark.parametrize(
    ("name", "tb_s"),
    [("NVIDIA H100 80GB HBM3", 3.35), ("NVIDIA H100 PCIe", 2.0), ("NVIDIA H200", 4.8), ("Tesla T4", None)],
)
def test_peak_bandwidth_by_device_name(name, tb_s):
    assert peak_bandwidth(name) == (tb_s and tb_s * 1e12)


@pytest.mark.filterwarnings("ignore:flex_attention called without torch.compile")
def test_tiny_run_measures_every_implementation(device):
    """Small shapes on whatever device the kernels run (the interpreter on CPU): every row times and agrees."""
    cfg = BenchConfig(device, prefixes=(40,), nodes=(4,), q_heads=4, kv_heads=2, head_dim=32, layers=2,
                      dtype=torch.float32, warmup=0, reps=1)  # fmt: skip
    report = run_benchmarks(cfg)
    impls = [(row["kernel"], row["impl"]) for row in report["rows"]]
    assert impls == [("tree_attention", name) for name in ("triton", "sdpa", "flex")] + [
        ("rope_shift", name) for name in ("triton", "reference", "copy")
    ]
    for row in report["rows"]:
        assert row["error"] is None and row["ms"] > 0 and row["gb_s"] > 0, row
        assert row["max_err"] is None or row["max_err"] < 1e-4, row
    assert json.loads(json.dumps(report))["rows"][0]["impl"] == "triton"
    table = markdown(report)
    assert table.count("\n| tree_attention |") == 3 and "| rope_shift | copy |" in table
