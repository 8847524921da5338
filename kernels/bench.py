"""``kvcomplete bench kernels [--json]``: the Triton kernels against PyTorch's own paths, on a CUDA GPU.

Tree attention (B=1, Hq=32, Hkv=8, D=128, bf16, a 4-ary draft tree) against SDPA with an explicit boolean mask and
against FlexAttention with a block mask, for P in {1k, 8k, 32k} prefix keys and T in {16, 64} nodes; rope_shift
of a [layers, Hkv, capacity, D] cache slice against its PyTorch reference and against a device-to-device copy of
the same bytes (the bandwidth ceiling). Times are medians of CUDA-event timings after warmup, with L2 flushed
before each repetition; GB/s counts the bytes the operation must move (attention: the K/V it reads; rope and
copy: the slice read and written); "of peak" divides by the device's HBM bandwidth where the device is known.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import statistics
import sys
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch.nn.attention.flex_attention import create_block_mask, flex_attention

from kvcomplete.kernels.rope_shift import rope_shift, rope_shift_reference
from kvcomplete.kernels.tree_attention import tree_attention, tree_attention_mask, tree_attention_reference

# Peak HBM bandwidth in TB/s by a piece of torch.cuda.get_device_name(), first match wins (PCIe before SXM).
PEAK_HBM_TB_S = [
    ("H200", 4.8),
    ("H100 NVL", 3.9),
    ("H100 PCIe", 2.0),
    ("H100", 3.35),  # SXM5, named "NVIDIA H100 80GB HBM3"
    ("A100 80GB PCIe", 1.935),
    ("A100-SXM4-80GB", 2.039),
    ("A100", 1.555),
]


@dataclasses.dataclass(slots=True)
class BenchConfig:
    """Shapes and repetitions; the defaults are the published benchmark, tests shrink them."""

    device: torch.device
    prefixes: tuple[int, ...] = (1024, 8192, 32768)
    nodes: tuple[int, ...] = (16, 64)
    q_heads: int = 32
    kv_heads: int = 8
    head_dim: int = 128
    layers: int = 32
    dtype: torch.dtype = torch.bfloat16
    warmup: int = 10
    reps: int = 100

    def __post_init__(self) -> None:
        assert self.q_heads % self.kv_heads == 0 and self.reps > 0 and self.warmup >= 0


@dataclasses.dataclass(slots=True)
class Row:
    """One measured implementation at one shape."""

    kernel: str
    impl: str
    shape: str
    ms: float | None = None
    gb_s: float | None = None
    of_peak: float | None = None
    max_err: float | None = None  # against the fp32 reference (rope: against the reference's own result)
    error: str | None = None


def peak_bandwidth(device_name: str) -> float | None:
    """Peak HBM bandwidth in bytes/s of a device, by name; None where the table does not know it."""
    return next((tb * 1e12 for key, tb in PEAK_HBM_TB_S if key in device_name), None)


def bench_tree_attention(cfg: BenchConfig, peak: float | None) -> list[Row]:
    """Triton tree attention vs SDPA (explicit boolean mask) vs FlexAttention (block mask), every (P, T)."""
    flex = torch.compile(flex_attention, dynamic=False) if cfg.device.type == "cuda" else flex_attention
    rows = []
    for prefix in cfg.prefixes:
        for nodes in cfg.nodes:
            gen = torch.Generator(cfg.device).manual_seed(0)
            q = torch.randn(1, cfg.q_heads, nodes, cfg.head_dim, generator=gen, device=cfg.device, dtype=cfg.dtype)
            k, v = (
                torch.randn(1, cfg.kv_heads, prefix + nodes, cfg.head_dim, generator=gen, device=cfg.device,
                            dtype=cfg.dtype)
                for _ in range(2)
            )  # fmt: skip
            prefix_len = torch.tensor([prefix], device=cfg.device)
            tree_mask = kary_tree_mask(nodes, 4, cfg.device)[None]
            scale = cfg.head_dim**-0.5
            mask = tree_attention_mask(prefix_len, tree_mask, prefix)
            block_mask = create_block_mask(
                lambda b, h, i, n: (n < prefix_len[b]) | ((n >= prefix) & tree_mask[b, i, (n - prefix).clamp(min=0)]),
                1, None, nodes, prefix + nodes, device=cfg.device,
            )  # fmt: skip
            impls = {
                "triton": lambda: tree_attention(q, k, v, prefix_len, tree_mask, scale, backend="triton"),
                "sdpa": lambda: F.scaled_dot_product_attention(q, k, v, mask, scale=scale, enable_gqa=True),
                "flex": lambda: flex(q, k, v, block_mask=block_mask, scale=scale, enable_gqa=True),
            }
            expected = tree_attention_reference(q, k, v, prefix_len, tree_mask, scale)
            shape = f"P={prefix} T={nodes} Hq={cfg.q_heads} Hkv={cfg.kv_heads} D={cfg.head_dim}"
            kv_bytes = 2 * k.numel() * k.element_size()
            for name, fn in impls.items():
                rows.append(_measure(cfg, "tree_attention", name, shape, fn, expected, kv_bytes, peak))
    return rows


def bench_rope_shift(cfg: BenchConfig, peak: float | None) -> list[Row]:
    """rope_shift (Triton) vs rope_shift_reference vs a copy of the same bytes, on a strided cache slice."""
    rows = []
    for tokens in cfg.prefixes:
        cache = torch.randn(cfg.layers, cfg.kv_heads, tokens + 1024, cfg.head_dim, device=cfg.device, dtype=cfg.dtype)
        keys = cache[:, :, 512 : 512 + tokens]  # not contiguous: the engine shifts a token range of every layer
        positions_from = torch.arange(512, 512 + tokens, device=cfg.device)
        positions_to = positions_from + 7
        inv_freq = 1.0 / 10000 ** (torch.arange(0, cfg.head_dim, 2, device=cfg.device) / cfg.head_dim)
        copy = torch.empty_like(keys)
        expected = rope_shift_reference(keys.clone(), positions_from, positions_to, inv_freq, cfg.head_dim)
        impls = {
            "triton": lambda: rope_shift(keys, positions_from, positions_to, inv_freq, cfg.head_dim, backend="triton"),
            "reference": lambda: rope_shift_reference(keys, positions_from, positions_to, inv_freq, cfg.head_dim),
            "copy": lambda: copy.copy_(keys),
        }
        shape = f"N={tokens} of [{cfg.layers}, {cfg.kv_heads}, {tokens + 1024}, {cfg.head_dim}]"
        moved = 2 * keys.numel() * keys.element_size()
        for name, fn in impls.items():
            snapshot = cache.clone()  # the first call is the checked one, then the timings rotate keys further
            rows.append(_measure(cfg, "rope_shift", name, shape, fn, None if name == "copy" else expected, moved, peak))
            cache.copy_(snapshot)
    return rows


def _measure(cfg, kernel, impl, shape, fn, expected, nbytes, peak) -> Row:
    """Check ``fn`` once against ``expected``, then time it; a failure becomes the row's error, not a crash."""
    row = Row(kernel, impl, shape)
    try:
        result = fn()
        if expected is not None:
            row.max_err = (result.float() - expected.float()).abs().max().item()
        row.ms = _median_ms(fn, cfg)
    except Exception as exc:  # one broken baseline (say, a FlexAttention compile) must not hide the others
        row.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        return row
    row.gb_s = nbytes / (row.ms * 1e-3) / 1e9
    row.of_peak = row.gb_s * 1e9 / peak if peak else None
    return row


def _median_ms(fn: Callable[[], object], cfg: BenchConfig) -> float:
    """Median milliseconds of ``fn``: CUDA events around each call on a GPU, L2 flushed before each."""
    for _ in range(cfg.warmup):
        fn()
    if cfg.device.type != "cuda":
        times = []
        for _ in range(cfg.reps):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1e3)
        return statistics.median(times)
    flush = torch.empty(256 * 2**20, dtype=torch.int8, device=cfg.device)  # larger than any L2
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(cfg.reps)]
    for start, end in events:
        flush.zero_()
        start.record()
        fn()
        end.record()
    torch.cuda.synchronize(cfg.device)
    return statistics.median(start.elapsed_time(end) for start, end in events)


def kary_tree_mask(nodes: int, arity: int, device: torch.device) -> torch.Tensor:
    """Ancestor mask [T, T] of a complete ``arity``-ary tree in breadth-first order (node i's parent is
    (i-1) // arity): the shape of a draft tree that branches at every depth."""
    mask = torch.eye(nodes, dtype=torch.bool)
    for node in range(1, nodes):
        mask[node] |= mask[(node - 1) // arity]
    return mask.to(device)


def run_benchmarks(cfg: BenchConfig) -> dict:
    """Every benchmark row, with the device, its peak bandwidth and the versions, as one JSON-ready document."""
    name = torch.cuda.get_device_name(cfg.device) if cfg.device.type == "cuda" else "cpu"
    peak = peak_bandwidth(name)
    rows = bench_tree_attention(cfg, peak) + bench_rope_shift(cfg, peak)
    return {
        "command": "kvcomplete bench kernels",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "device": name,
        "peak_hbm_tb_s": peak / 1e12 if peak else "unknown",
        "torch": torch.__version__,
        "triton": _triton_version(),
        "dtype": str(cfg.dtype).removeprefix("torch."),
        "rows": [dataclasses.asdict(row) for row in rows],
    }


def markdown(report: dict) -> str:
    """The report as a Markdown table under a line naming the device."""
    peak = report["peak_hbm_tb_s"]
    peak_text = peak if peak == "unknown" else f"{peak} TB/s"
    lines = [
        f"{report['command']} — {report['device']} (peak HBM {peak_text}), {report['date']}, "
        f"torch {report['torch']}, triton {report['triton']}, {report['dtype']}",
        "",
        "| kernel | impl | shape | ms | GB/s | of peak | max err |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in report["rows"]:
        if row["error"]:
            cells = [row["error"], "", "", ""]
        else:
            cells = [f"{row['ms']:.4f}", f"{row['gb_s']:.0f}", _percent(row["of_peak"]), _maybe(row["max_err"], ".1e")]
        lines.append("| " + " | ".join([row["kernel"], row["impl"], row["shape"], *cells]) + " |")
    return "\n".join(lines)


def _percent(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.0%}"


def _maybe(value: float | None, spec: str) -> str:
    return "" if value is None else format(value, spec)


def _triton_version() -> str:
    try:
        import triton
    except ImportError:
        return "not installed"
    return triton.__version__


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``kvcomplete bench kernels``; returns the exit code (2: no CUDA device)."""
    parser = argparse.ArgumentParser(prog="kvcomplete bench kernels", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print a JSON document instead of a Markdown table")
    parser.add_argument("--reps", type=int, default=100, help="timed repetitions per measurement (default 100)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed calls first (default 10)")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print(
            "kvcomplete bench kernels: no CUDA device is available. The benchmark compares the Triton kernels with "
            "SDPA and FlexAttention on a GPU; run it on a machine with one.",
            file=sys.stderr,
        )
        return 2
    report = run_benchmarks(BenchConfig(torch.device("cuda"), warmup=args.warmup, reps=args.reps))
    print(json.dumps(report, indent=2) if args.json else markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
