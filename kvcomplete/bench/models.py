"""`kvcomplete bench models`: kvcomplete and llama.cpp on the same GGUF files, side by side in one run.

For each file: kvcomplete's load time (metadata converted on the first load, cached after), resident memory,
and the cost of a forward of 1 and of 16 tokens after 1,000 cached tokens (``bench step``'s measurement,
default settings: a GGUF keeps its bits); then ``llama-bench`` on the same file with the same thread count:
tg16 and pp16 at depth 1000, the same two forwards. Without files named, it writes a random-weight GGUF of
Qwen2.5-Coder-1.5B's shape (random_gguf.py) and quantizes it with llama-quantize to Q4_K_M and Q8_0.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from kvcomplete import llama_cpp
from kvcomplete.bench.random_gguf import quantize, write_random_gguf
from kvcomplete.bench.report import header, header_markdown, table
from kvcomplete.bench.step import CONTEXT, TREE, context_ids, forward_costs
from kvcomplete.completion.config import Settings
from kvcomplete.completion.model import default_model
from kvcomplete.completion.model.gguf_weights import return_freed_memory
from kvcomplete.completion.model.loading import load
from kvcomplete.completion.model.threads import available_threads

DEFAULT_TYPES = ("Q4_K_M", "Q8_0")


def default_files(folder: Path) -> list[Path]:
    """The random-weight 1.5B-shape file in each of DEFAULT_TYPES, written and quantized once into ``folder``."""
    tool = llama_cpp.binary("llama-quantize")
    if tool is None:
        raise RuntimeError(llama_cpp.missing_message("llama-quantize"))
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "qwen2.5-coder-1.5b-shape-random-F16.gguf"
    files = [folder / f"qwen2.5-coder-1.5b-shape-random-{kind}.gguf" for kind in DEFAULT_TYPES]
    for kind, target in zip(DEFAULT_TYPES, files):
        if not target.is_file():
            if not source.is_file():
                _log(f"writing {source.name} (random weights, about 2.9 GB)")
                write_random_gguf(source.with_suffix(".partial"), default_model.default_gguf_path()).rename(source)
            _log(f"llama-quantize → {kind}")
            quantize(tool, source, target.with_suffix(".partial"), kind, available_threads()).rename(target)
    return files


def resident_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return round(int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) / 1024, 1)


def kvcomplete_figures(path: Path, repeats: int, note: str | None) -> tuple[dict, dict]:
    """Load ``path`` with default settings and time forward(1) and forward(16) after CONTEXT tokens; the
    figures, and the report header of that load."""
    gc.collect()  # the previous file's model: freed and handed back before this one's memory is counted
    return_freed_memory()
    before = resident_mb()
    started = time.perf_counter()
    loaded = load(Settings(model=str(path)))
    first_load, resident = time.perf_counter() - started, resident_mb() - before
    del loaded
    gc.collect()
    loaded = load(Settings(model=str(path)))  # the metadata is cached now: a load as every later one
    rows = forward_costs({"kvcomplete": loaded}, context_ids(loaded), (1, TREE), repeats)
    row = max(rows, key=lambda row: row["threads"])
    described = header(loaded, "kvcomplete " + " ".join(sys.argv[1:]), False, note)
    return described, {"weights": loaded.weights, "first_load_seconds": round(first_load, 1),
            "load_seconds": round(loaded.load_seconds, 1), "resident_mb": round(resident, 1),
            "threads": row["threads"], "ms_per_token": row["n=1"], f"forward{TREE}_ms": row[f"n={TREE}"],
            "forward16_over_forward1": row[f"n={TREE} / n=1"]}


def llama_cpp_figures(path: Path, threads: int, repeats: int) -> dict:
    """``llama-bench`` on ``path``: tg16 and pp16 at depth CONTEXT, ``threads`` threads."""
    tool = llama_cpp.binary("llama-bench")
    if tool is None:
        return {"missing": llama_cpp.missing_message("llama-bench")}
    output = subprocess.run([str(tool), "-m", str(path), "-t", str(threads), "-p", str(TREE), "-n", str(TREE),
                             "-d", str(CONTEXT), "-r", str(repeats), "-o", "json"],
                            check=True, capture_output=True, text=True).stdout
    runs = {("pp" if run["n_prompt"] else "tg"): run for run in json.loads(output)}
    step_ms = 1000 / runs["tg"]["avg_ts"]
    tree_ms = TREE * 1000 / runs["pp"]["avg_ts"]
    return {"ms_per_token": round(step_ms, 1), f"forward{TREE}_ms": round(tree_ms, 1),
            "forward16_over_forward1": round(tree_ms / step_ms, 2), "tg_tokens_per_s": round(runs["tg"]["avg_ts"], 1),
            "pp_tokens_per_s": round(runs["pp"]["avg_ts"], 1), "threads": threads}


def run(files: list[Path], repeats: int, note: str | None) -> tuple[dict, list[dict]]:
    """The report header (of the first file's load) and each file's figures."""
    results, headers = [], []
    for path in files:
        _log(f"kvcomplete on {path.name}")
        described, ours = kvcomplete_figures(path, repeats, note)
        headers.append(described)
        _log(f"llama-bench on {path.name}")
        theirs = llama_cpp_figures(path, ours["threads"], repeats)
        results.append({"file": path.name, "file_mb": round(path.stat().st_size / 2**20, 1), "kvcomplete": ours,
                        "llama.cpp": theirs, "step_ratio": round(ours["ms_per_token"] / theirs["ms_per_token"], 2)
                        if "ms_per_token" in theirs else None})
        _log(json.dumps(results[-1]))
    return headers[0], results


def markdown(results: list[dict]) -> str:
    rows = []
    for result in results:
        ours, theirs = result["kvcomplete"], result["llama.cpp"]
        rows.append({"file": result["file"], "engine": f"kvcomplete ({ours['weights']})",
                     "ms/token": ours["ms_per_token"], f"forward({TREE}) ms": ours[f"forward{TREE}_ms"],
                     f"f{TREE}/f1": ours["forward16_over_forward1"], "load s": ours["load_seconds"],
                     "first load s": ours["first_load_seconds"], "RSS MB": ours["resident_mb"]})
        rows.append({"file": result["file"], "engine": "llama.cpp llama-bench", "ms/token": theirs.get("ms_per_token"),
                     f"forward({TREE}) ms": theirs.get(f"forward{TREE}_ms"),
                     f"f{TREE}/f1": theirs.get("forward16_over_forward1")})
    return (f"One-token step and {TREE}-token forward after {CONTEXT} cached tokens, same file, same threads, "
            "same run (kvcomplete: median; llama.cpp: llama-bench's mean of tg16 / pp16 at d1000).\n\n" + table(rows))


def main(files: list[Path], repeats: int = 3, as_json: bool = False, out: Path = Path("docs/benchmarks"),
         note: str | None = None) -> int:
    started = time.perf_counter()
    files = files or default_files(default_model.cache_root() / "bench")
    described, results = run(files, repeats, note)
    report = {"name": "models", **described, "models": results, "seconds": round(time.perf_counter() - started, 1), "cpu_count": os.cpu_count()}
    text = f"# kvcomplete bench models\n\n{header_markdown(report)}\n{markdown(results)}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "models.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "models.md").write_text(text)
    print(json.dumps(report, indent=2) if as_json else text)
    return 0


def _log(message: str) -> None:
    print(f"kvcomplete bench models: {message}", file=sys.stderr, flush=True)
