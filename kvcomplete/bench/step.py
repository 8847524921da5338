"""`kvcomplete bench step`: what one model step costs, by width, dtype, weights format and thread count.

Three measurements, each side by side in one run (the CPU may be shared: ratios within a run hold, absolute
times move with the load, which the outputs record):

- forwards: ``ModelRunner.forward`` of n new tokens (a causal n x n block) after a real source file of
  ``CONTEXT`` tokens, for each variant (dtype + weights) and each fixed thread count; the variants take
  turns within each repetition; median of the repetitions.
- greedy: tokens/s of a greedy decode, one token per forward, through each variant's runner (its thread
  policy measuring as in the engine), against plain transformers ``generate`` in fp32 on the same prompt;
  both exclude the prompt's encoding (``generate``: the time of N tokens less that of one).
- agreement: on real-code points (the cursor after the indentation of a code line in standard-library
  modules; the left-to-right layout hides the rest of the file), the share of suggestion #1 identical to
  fp32's, greedy, speculation off, k = 1: what each faster variant costs in suggestions.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import torch

from kvcomplete.bench import plots
from kvcomplete.bench.report import header, header_markdown, table
from kvcomplete.bench.sources import cut_to_tokens, held_out_modules, indentation, is_code_line, read_module
from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine
from kvcomplete.completion.model.loading import load
from kvcomplete.completion.model.precision import resolve
from kvcomplete.completion.model.runner import ModelRunner
from kvcomplete.completion.model.spec import LoadedModel
from kvcomplete.completion.model.threads import ThreadPolicy, available_threads, candidate_counts

VARIANTS = {"fp32": ("float32", "fp32"), "bf16": ("bfloat16", "bf16"), "bf16+int8": ("bfloat16", "int8"),
            "bf16+int4": ("bfloat16", "int4")}  # name: (dtype, weights); fp32 is the agreement reference
CONTEXT = 1000  # tokens cached before the measured forwards
TREE = 16  # a draft tree's width: forward(16) / forward(1) is reported beside the widths
FULL = {"widths": (1, 2, 4, 8, 16, 32, 64), "repeats": 3, "greedy_tokens": 32, "modules": 10, "per_module": 5}
QUICK = {"widths": (1, 4, 16, 64), "repeats": 3, "greedy_tokens": 16, "modules": 2, "per_module": 3}


def context_ids(loaded: LoadedModel) -> list[int]:
    text = read_module(held_out_modules(every=7, min_chars=20000)[0])
    return loaded.tokenizer(text)["input_ids"][:CONTEXT]


def forward_costs(loadeds: dict[str, LoadedModel], ids: list[int], widths, repeats: int) -> list[dict]:
    """One row per (threads, variant): median ms of a forward of each width."""
    rows = []
    for threads in candidate_counts(available_threads()):
        runners = {name: ModelRunner(loaded, "torch", ThreadPolicy((threads,))) for name, loaded in loadeds.items()}
        stores = {name: runner.new_store(len(ids) + max(widths)) for name, runner in runners.items()}
        for name, runner in runners.items():
            runner.encode(stores[name], ids, 0)
        times: dict[tuple[str, int], list[float]] = {}
        names = list(runners)
        for repeat in range(repeats + 1):  # the first round warms up and is dropped
            for n in widths:
                visible, positions = torch.ones(n, n, dtype=torch.bool).tril(), torch.arange(len(ids), len(ids) + n)
                for name in names[repeat % len(names):] + names[: repeat % len(names)]:
                    started = time.perf_counter()
                    runners[name].forward(stores[name], ids[:n], positions, len(ids), len(ids), visible)
                    if repeat:
                        times.setdefault((name, n), []).append((time.perf_counter() - started) * 1000)
        for name in names:
            medians = {n: statistics.median(times[name, n]) for n in widths}
            rows.append({"threads": threads, "variant": name, **{f"n={n}": round(ms, 1) for n, ms in medians.items()},
                         f"n={TREE} / n=1": round(medians[TREE] / medians[1], 2)})
    return rows


def greedy_runner(loaded: LoadedModel, ids: list[int], tokens: int) -> float:
    """ms for ``tokens`` greedy forwards of one token each after encoding ``ids`` (not timed)."""
    runner = ModelRunner(loaded, "torch")
    store = runner.new_store(len(ids) + tokens)
    logits = runner.encode(store, ids, 0)
    one = torch.ones(1, 1, dtype=torch.bool)
    started = time.perf_counter()
    for step in range(tokens):
        token = int(logits[-1].argmax())
        at = len(ids) + step
        logits = runner.forward(store, [token], torch.tensor([at]), at, at, one)
    return (time.perf_counter() - started) * 1000


def greedy_generate(model, ids: list[int], tokens: int) -> float:
    """ms of transformers ``generate`` for ``tokens`` new tokens, less that of one (the prompt's encoding)."""
    prompt = torch.tensor([ids])

    def timed(count: int) -> float:
        started = time.perf_counter()
        model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=count, min_new_tokens=count,
                       do_sample=False, pad_token_id=0)
        return (time.perf_counter() - started) * 1000

    return timed(tokens + 1) - timed(1)


def greedy(loadeds: dict[str, LoadedModel], ids: list[int], tokens: int) -> list[dict]:
    """Tokens/s of each variant's greedy decode and of transformers ``generate`` in fp32 (on the faster of
    its thread counts: under a competing load two threads can be several times slower than one)."""
    from transformers import AutoModelForCausalLM

    folder = loadeds["fp32"].model.name_or_path
    plain = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, local_files_only=True).eval()
    prompt = ids[: CONTEXT // 2]
    with torch.inference_mode():
        ms = {name: greedy_runner(loaded, prompt, tokens) for name, loaded in loadeds.items()}
        for threads in candidate_counts(available_threads()):
            torch.set_num_threads(threads)
            ms[f"transformers generate (fp32, {threads} threads)"] = greedy_generate(plain, prompt, tokens)
    reference = min(value for name, value in ms.items() if name.startswith("transformers"))
    return [{"decoder": name, "tokens": tokens, "tokens_per_s": round(tokens / value * 1000, 1),
             "vs_best_transformers": round(reference / value, 2)} for name, value in ms.items()]


def code_points(text: str, count: int) -> list[tuple[int, int]]:
    """(1-based line, offset after its indentation) of ``count`` evenly spaced code lines of ``text``."""
    lines = text.split("\n")[:-1]  # the last line may be cut
    eligible = [index for index, line in enumerate(lines) if is_code_line(line)]
    step = max(1, len(eligible) // count)
    picks = eligible[step // 2:: step][:count]
    return [(index + 1, sum(len(line) + 1 for line in lines[:index]) + len(indentation(lines[index])))
            for index in picks]


def agreement(loadeds: dict[str, LoadedModel], modules: int, per_module: int, reference: str = "fp32") -> dict:
    """Suggestion #1 of each variant against ``reference``'s on the same points."""
    settings = Settings(device="cpu", suggestions=1, max_tokens=16, speculation=False)
    engines = {name: Engine(settings, loaded=loaded) for name, loaded in loadeds.items()}
    vocab = engines[reference].vocab
    same, points, rows = dict.fromkeys(engines, 0), 0, []
    for path in held_out_modules(every=5, min_chars=20000)[:modules]:
        text = cut_to_tokens(read_module(path), 700, vocab)
        uri = f"file:///bench/{path.name}"
        for engine in engines.values():
            engine.open(uri, text)
        for line, offset in code_points(text, per_module):
            firsts = {}
            for name, engine in engines.items():
                engine.documents[uri].shown = None  # an earlier point's suggestion must not answer by type-along
                suggestions = engine.complete(uri, offset).suggestions
                firsts[name] = suggestions[0].text if suggestions else ""
            points += 1
            for name in engines:
                same[name] += firsts[name] == firsts[reference]
            rows.append({"module": path.name, "line": line, "suggestions": firsts})
    return {"points": points, "reference": reference, "same_as_reference": same, "rows": rows}


def run(quick: bool) -> tuple[dict, dict[str, LoadedModel]]:
    scale = QUICK if quick else FULL
    loadeds = {name: load(Settings(device="cpu", dtype=dtype, weights=weights))
               for name, (dtype, weights) in VARIANTS.items()}
    auto = resolve("auto", "auto", torch.device("cpu"))
    ids = context_ids(loadeds["fp32"])
    result = {"setup": {"context_tokens": len(ids), **scale, "variants": VARIANTS,
                        "layers": {name: loaded.weights for name, loaded in loadeds.items()},
                        "auto": {"dtype": str(auto.dtype).removeprefix("torch."), "dtype_reason": auto.dtype_reason,
                                 "weights_reason": auto.weights_reason}}}
    log = lambda what: print(f"kvcomplete bench step: {what}", file=sys.stderr, flush=True)  # noqa: E731
    log("forwards by width")
    result["forwards"] = forward_costs(loadeds, ids, scale["widths"], scale["repeats"])
    log("greedy tokens/s")
    result["greedy"] = greedy(loadeds, ids, scale["greedy_tokens"])
    log("suggestion #1 agreement")
    result["agreement"] = agreement(loadeds, scale["modules"], scale["per_module"])
    return result, loadeds


def markdown(result: dict) -> str:
    setup, agree = result["setup"], result["agreement"]
    auto = setup["auto"]
    rows = [{"variant": name, "same_as_fp32": count, "points": agree["points"],
             "share": round(count / max(1, agree["points"]), 3)} for name, count in agree["same_as_reference"].items()]
    layers = "; ".join(f"{name}: {kinds}" for name, kinds in setup["layers"].items())
    return (f"Defaults here: dtype {auto['dtype']} ({auto['dtype_reason']}); weights {auto['weights_reason']}. "
            f"Linear layers of each variant: {layers}.\n\n"
            f"## Forward cost (ms, median of {setup['repeats']}) by width n, after {setup['context_tokens']} "
            "cached tokens\n\n" + table(result["forwards"]) +
            f"\n## Greedy decode, {setup['greedy_tokens']} tokens, side by side\n\n" + table(result["greedy"]) +
            "\n## Suggestion #1 identical to fp32 (greedy, k = 1, 16 tokens, real code)\n\n" + table(rows))


def main(quick: bool = False, as_json: bool = False, out: Path = Path("docs/benchmarks"),
         note: str | None = None) -> int:
    """Measure, write ``<out>/step.json`` and ``<out>/step.md``, print the Markdown (or the JSON)."""
    started = time.perf_counter()
    result, loadeds = run(quick)
    torch.set_num_threads(available_threads())  # the machine line reports torch's thread count
    report = {"name": "step", **header(loadeds["fp32"], "kvcomplete " + " ".join(sys.argv[1:]), quick, note),
              "step": result, "seconds": round(time.perf_counter() - started, 1)}
    text = f"# kvcomplete bench step\n\n{header_markdown(report)}\n{markdown(result)}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "step.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "step.md").write_text(text)
    plots.write("step", result, out / "step.png")
    print(json.dumps(report, indent=2) if as_json else text)
    return 0
