"""The Triton kernels where they run: inside the engine's forwards, on a model of a real size (GPU check).

kernels/bench.py times the kernels alone; this times kernels "torch" against "triton" (completion/model/runner.py)
side by side in one run, on a randomly initialised model with Qwen2-1.5B's shape (written out below: no weights
travel, nothing is downloaded) and the default model's tokenizer, over this repository's own source:

- verify: one verification forward of a T-node draft tree (4-ary) after a P-token prompt, with document slots
  after the cursor hidden (the engine's layout): median ms, and the largest logit difference between the paths;
- step: a one-token greedy step and a 16-node tree after each of ``step_contexts`` tokens, with the runner's
  kernels choice (auto), eager and, with ``compile``, through torch.compile (the ``compile`` setting,
  completion/model/compiled.py), which is what a CUDA decode step needs to stop being launch-bound (the goal:
  <= 8 ms a step at 8k context for this shape on an H100/H200);
- pie: one PIE edit near the top (encode 3 tokens, move and re-rotate every later key) and its inverse;
- complete: requests at line starts, greedy vs speculative, k = 1 and 3: ms per request, forwards, tokens/s, and
  how many suggestions #1 equal the torch greedy ones (exact arithmetic would make that all of them; bf16 GEMMs
  of different shapes may break near-ties).

Random weights make draft acceptance unlike a trained model's, so the speculative ratio here measures the
machinery's cost, not the product's gain; the per-forward costs are those a trained model of this shape pays.
Times are wall-clock around whole forwards or requests (synchronised on CUDA): what the engine waits for,
Python and kernel launches included. Run by kernels/gpu_check.sh; ``python -P -m kvcomplete.bench.engine_kernels -h``
(-P keeps the checkout off sys.path).
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
from pathlib import Path

import torch

from kvcomplete.completion.cache.session import Session
from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine
from kvcomplete.completion.model import attention, default_model, loading
from kvcomplete.completion.model.compiled import compile_forward, warm_up
from kvcomplete.completion.model.runner import ModelRunner
from kvcomplete.completion.model.spec import LoadedModel
from kvcomplete.completion.text.mirror import TokenEdit
from kvcomplete.kernels.bench import kary_tree_mask

REPO = Path(__file__).resolve().parents[2]
PACKED_TOKENIZER = REPO / ".gpu" / "tokenizer"  # kernels/gpu_check.sh pack puts the tokenizer here
SOURCE_FOLDERS = ("completion", "kernels", "lsp_server", "kvcomplete", "tests")
# Qwen2-1.5B's shape (its config.json), with the tokenizer's vocabulary instead of Qwen's 151,936 tokens.
SHAPES = {
    "qwen2-1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
                       num_key_value_heads=2, max_position_embeddings=32768, rms_norm_eps=1e-6,
                       tie_word_embeddings=True, rope_parameters={"rope_type": "default", "rope_theta": 1e6}),
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, max_position_embeddings=4096),
}


@dataclasses.dataclass(slots=True)
class BenchConfig:
    """What to measure; the defaults are the GPU check, the tests shrink them."""

    device: torch.device
    shape: str = "qwen2-1.5b"
    dtype: torch.dtype = torch.bfloat16
    kernels: tuple[str, ...] = ("torch", "triton")
    contexts: tuple[int, ...] = (2048, 16384)  # P, prompt tokens before the cursor
    hidden: int = 512  # document slots after the cursor
    widths: tuple[int, ...] = (1, 4, 16, 64, 128)  # T, tree nodes per verification forward
    warmup: int = 3
    reps: int = 20
    requests: int = 6
    document_chars: int = 8192  # the completions' document: about 2.5k tokens of source
    max_tokens: int = 32
    suggestions: tuple[int, ...] = (1, 3)
    step_contexts: tuple[int, ...] = (2048, 8192)
    step_widths: tuple[int, ...] = (1, 16)
    compile: bool = False  # also time the steps compiled (after the eager ones: compiling changes the model)
    sections: tuple[str, ...] = ("verify", "pie", "complete", "step")

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"shape must be one of {', '.join(SHAPES)}, not {self.shape!r}")
        assert self.reps > 0 and self.warmup >= 0 and self.requests > 0 and "torch" in self.kernels


def random_model(shape: str, tokenizer, device: torch.device, dtype: torch.dtype) -> LoadedModel:
    """A Qwen2 of ``shape`` with random weights, made on ``device`` (no weights are read or written)."""
    import transformers

    config = transformers.Qwen2Config(vocab_size=len(tokenizer), **SHAPES[shape])
    torch.manual_seed(0)
    started = time.perf_counter()
    with torch.device(device):
        model = transformers.AutoModelForCausalLM.from_config(config, attn_implementation=attention.register(),
                                                              dtype=dtype)
    model.eval().requires_grad_(False)
    return LoadedModel(model=model, tokenizer=tokenizer, rotary=loading.rotary_spec(model, "default"),
                              name=f"random {shape}", device=device, dtype=dtype,
                              load_seconds=time.perf_counter() - started)


def source_text(characters: int) -> str:
    """At least ``characters`` of this repository's Python source, file after file (repeated if need be)."""
    files = sorted(path for folder in SOURCE_FOLDERS for path in (REPO / folder).rglob("*.py"))
    if not files:
        raise FileNotFoundError(f"no Python source under {REPO} ({', '.join(SOURCE_FOLDERS)})")
    pieces, total = [], 0
    while total < characters:
        for path in files:
            pieces.append(path.read_text(encoding="utf-8"))
            total += len(pieces[-1])
            if total >= characters:
                break
    return "".join(pieces)


def wall_ms(fn: Callable[[], object], cfg: BenchConfig) -> float:
    """Median wall-clock ms of ``fn`` after warmup, synchronised on CUDA before and after each call."""
    def timed() -> float:
        _synchronize(cfg.device)
        start = time.perf_counter()
        fn()
        _synchronize(cfg.device)
        return (time.perf_counter() - start) * 1e3

    for _ in range(cfg.warmup):
        timed()
    return statistics.median(timed() for _ in range(cfg.reps))


def bench_verify(cfg: BenchConfig, loaded: LoadedModel, tokens: list[int]) -> list[dict]:
    """Verification forwards of each width after each context, every kernels choice on the same cache."""
    runners = {name: ModelRunner(loaded, name) for name in cfg.kernels}
    rows = []
    for context in cfg.contexts:
        store = runners["torch"].new_store(context + cfg.hidden + max(cfg.widths))
        runners["torch"].encode(store, tokens[: context + cfg.hidden], 0)
        for width in cfg.widths:
            tree = kary_tree_mask(width, 4, torch.device("cpu"))
            positions = context + tree.sum(dim=1) - 1  # node depth after the cursor
            visible = torch.cat((torch.zeros(width, cfg.hidden, dtype=torch.bool), tree), dim=1)
            draft = tokens[context: context + width]
            logits = {}
            for name, runner in runners.items():
                def forward(runner: ModelRunner = runner) -> torch.Tensor:
                    return runner.forward(store, draft, positions, context + cfg.hidden, context, visible)

                ms = wall_ms(forward, cfg)
                logits[name] = forward()
                rows.append({"kernels": name, "context": context, "width": width, "ms": round(ms, 3)})
            for row in rows[-len(runners):]:
                row["max_logit_diff"] = float((logits[row["kernels"]] - logits["torch"]).abs().max())
    return rows


def bench_step(cfg: BenchConfig, loaded: LoadedModel, tokens: list[int]) -> list[dict]:
    """Steps of each width after each context, eager then (with ``cfg.compile``) compiled, on the same model."""
    rows = []
    for compiled in (False, True) if cfg.compile else (False,):
        if compiled:
            compile_forward(loaded.model)
            warm_up(ModelRunner(loaded), lambda what, fraction: None, 0.0, 1.0)
        runner = ModelRunner(loaded)
        for context in cfg.step_contexts:
            store = runner.new_store(context + max(cfg.step_widths))
            runner.encode(store, tokens[:context], 0)
            for width in cfg.step_widths:
                visible = torch.ones(width, width, dtype=torch.bool).tril()
                positions = torch.arange(context, context + width)

                def forward(width=width, visible=visible, positions=positions) -> torch.Tensor:
                    return runner.forward(store, tokens[context: context + width], positions, context, context, visible)

                rows.append({"compiled": compiled, "context": context, "width": width,
                             "ms": round(wall_ms(forward, cfg), 3)})
    return rows


def bench_pie(cfg: BenchConfig, loaded: LoadedModel, tokens: list[int]) -> list[dict]:
    """A 3-token insertion near the top of the largest context and its deletion: every later key moves."""
    document = tokens[: max(cfg.contexts)]
    insert = TokenEdit(8, 0, tuple(document[:3]))
    delete = TokenEdit(8, 3, ())
    rows, keys = [], {}
    for name in cfg.kernels:
        session = Session(ModelRunner(loaded, name), document)
        times = {"insert": [], "delete": []}
        for _ in range(cfg.warmup + cfg.reps):
            for label, edit in (("insert", insert), ("delete", delete)):
                _synchronize(cfg.device)
                start = time.perf_counter()
                session.apply(edit)
                _synchronize(cfg.device)
                times[label].append((time.perf_counter() - start) * 1e3)
        keys[name] = session.store.keys[:, :, : session.length].float()
        rows += [{"kernels": name, "edit": label, "moved_tokens": len(document) - 8, "layers": loaded.config.num_hidden_layers,
                  "ms": round(statistics.median(values[cfg.warmup:]), 3)} for label, values in times.items()]
    for row in rows:
        row["max_key_diff"] = float((keys[row["kernels"]] - keys["torch"]).abs().max())
    return rows


def bench_complete(cfg: BenchConfig, loaded: LoadedModel, text: str) -> list[dict]:
    """Requests at line starts in the second half of ``text``: each kernels choice, k, greedy or speculative, each
    in a fresh engine (a shared one would let CopySpec copy the earlier runs' suggestions)."""
    starts = [i + 1 for i, char in enumerate(text) if char == "\n" and i >= len(text) // 2]
    picks = starts[:: max(1, len(starts) // (cfg.requests + 1))][: cfg.requests + 1]
    assert len(picks) == cfg.requests + 1, f"{len(picks)} line starts in the document, {cfg.requests + 1} needed"
    warm_cursor, cursors = picks[0], picks[1:]
    rows, greedy_firsts = [], {}
    for name in cfg.kernels:
        for k in cfg.suggestions:
            for speculation in (False, True):
                settings = Settings(device=cfg.device.type, suggestions=k, max_tokens=cfg.max_tokens,
                                    speculation=speculation, kernels=name)
                engine = Engine(settings, loaded=loaded)
                engine.open("file:///bench.py", text)
                engine.complete("file:///bench.py", warm_cursor)  # encodes the document, tunes the kernels
                before = dict(engine.stats())
                firsts, times = [], []
                for cursor in cursors:
                    _synchronize(cfg.device)
                    start = time.perf_counter()
                    result = engine.complete("file:///bench.py", cursor)
                    _synchronize(cfg.device)
                    times.append((time.perf_counter() - start) * 1e3)
                    firsts.append(result.suggestions[0].text if result.suggestions else "")
                stats = {key: engine.stats()[key] - before[key] for key in
                         ("forwards", "tokensGenerated", "draftTokensProposed", "draftTokensAccepted")}
                reference = greedy_firsts.setdefault(k, firsts)  # torch greedy comes first
                rows.append({"kernels": name, "k": k, "speculation": speculation, "requests": len(cursors),
                             "ms_median": round(statistics.median(times), 2), "ms_total": round(sum(times), 2),
                             "tokens_per_s": round(stats["tokensGenerated"] / (sum(times) / 1e3), 1), **stats,
                             "first_equals_torch_greedy": sum(a == b for a, b in zip(firsts, reference))})
    return rows


SECTIONS = {"verify": bench_verify, "pie": bench_pie, "complete": bench_complete, "step": bench_step}


def run(cfg: BenchConfig, tokenizer) -> dict:
    """Every measurement, with the device, versions and model shape, as one JSON-ready document."""
    import transformers

    loaded = random_model(cfg.shape, tokenizer, cfg.device, cfg.dtype)
    need = max(max(cfg.contexts) + cfg.hidden + max(cfg.widths), max(cfg.step_contexts) + max(cfg.step_widths))
    text = source_text(8 * need)  # code runs ~3-4 characters per token
    tokens = tokenizer.encode(text, add_special_tokens=False)
    assert len(tokens) >= need, f"{len(tokens)} tokens of source, {need} needed"
    completion_text = text[: cfg.document_chars]
    return {
        "command": "python -m kvcomplete.bench.engine_kernels",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "device": torch.cuda.get_device_name(cfg.device) if cfg.device.type == "cuda" else "cpu",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "triton": _triton_version()},
        "model": {"shape": cfg.shape, **{key: value for key, value in SHAPES[cfg.shape].items()},
                  "vocab_size": len(tokenizer), "dtype": str(cfg.dtype).removeprefix("torch."),
                  "parameters": sum(p.numel() for p in loaded.model.parameters()),
                  "init_seconds": round(loaded.load_seconds, 2)},
        "config": {key: getattr(cfg, key) for key in ("contexts", "hidden", "widths", "warmup", "reps", "requests",
                                                     "document_chars", "max_tokens", "suggestions", "step_contexts",
                                                     "step_widths", "compile")},
        **{section: SECTIONS[section](cfg, loaded, completion_text if section == "complete" else tokens)
           for section in SECTIONS if section in cfg.sections},  # in SECTIONS' order: step, which compiles, last
    }


def markdown(report: dict) -> str:
    """The report as four tables under a line naming the device, model and versions."""
    model, versions = report["model"], report["versions"]
    lines = [f"{report['command']} — {report['device']}, {report['date']}, random {model['shape']} "
             f"({model['parameters'] / 1e9:.2f} B parameters, {model['dtype']}), "
             + ", ".join(f"{name} {version}" for name, version in versions.items())]
    for section in (section for section in SECTIONS if section in report):
        rows = report[section]
        columns = list(rows[0])
        lines += ["", f"### {section}", "", "| " + " | ".join(columns) + " |",
                  "|" + " --- |" * len(columns)]
        lines += ["| " + " | ".join(_cell(row[column]) for column in columns) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) and abs(value) < 1e-2 else str(value)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _triton_version() -> str:
    try:
        import triton
    except ImportError:
        return "not installed"
    return triton.__version__


def default_tokenizer_dir() -> Path:
    """The default model's folder when it is installed, else the tokenizer packed by kernels/gpu_check.sh pack."""
    return default_model.default_model_dir() if default_model.is_installed() else PACKED_TOKENIZER


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kvcomplete.bench.engine_kernels",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="qwen2-1.5b", choices=sorted(SHAPES))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", choices=["cpu", "cuda"])
    parser.add_argument("--tokenizer", type=Path, default=None, help="tokenizer folder (default: the default "
                        "model's, else .gpu/tokenizer from `bash kernels/gpu_check.sh pack`)")
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--out", type=Path, help="also write kernels_bench.json and kernels_bench.md here")
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    parser.add_argument("--compile", action="store_true", help="also time the steps through torch.compile")
    parser.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=list(SECTIONS))
    args = parser.parse_args(argv)
    from transformers import AutoTokenizer

    folder = args.tokenizer or default_tokenizer_dir()
    if not (folder / "tokenizer.json").is_file():
        print(f"no tokenizer in {folder}: run `make setup`, or `bash kernels/gpu_check.sh pack` where the default "
              "model is installed and carry .gpu", file=sys.stderr)
        return 2
    device = torch.device(args.device)
    cfg = BenchConfig(device, shape=args.shape, dtype=torch.bfloat16 if device.type == "cuda" else torch.float32,
                      kernels=("torch", "triton") if device.type == "cuda" else ("torch",), reps=args.reps,
                      compile=args.compile, sections=tuple(args.sections))
    report = run(cfg, AutoTokenizer.from_pretrained(folder))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "kernels_bench.json").write_text(json.dumps(report, indent=2))
        (args.out / "kernels_bench.md").write_text(markdown(report) + "\n")
    print(json.dumps(report, indent=2) if args.json else markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
