"""The *edits* suite: following an edit with PIE vs a full re-encode vs naive reuse, on real code.

- tasks: the PIE paper's insertion / deletion / multi-place editing (bench/edit_tasks.py), then greedy
  next-line prediction, in three modes that share nothing but the model: PIE and naive reuse (K/V moved
  without re-rotation) each encode the document before the edit and follow the edit in their cache; the
  full re-encode encodes the document after the edit from scratch (the quality reference). Exact match and
  edit similarity against the real line, agreement with the full re-encode's prediction, and the time the
  engine took to bring its cache up to date (for the full re-encode: the whole encode).
- update_time: one line inserted in the middle of a module cut to ~1k / ~4k tokens; PIE vs re-encoding
  from the edit vs a full encode, interleaved, median of repeats.
"""

from __future__ import annotations

import difflib
import statistics
import time

from kvcomplete.bench.edit_tasks import TASKS, EditSample, module_samples
from kvcomplete.bench.report import table
from kvcomplete.bench.scale import Scale
from kvcomplete.bench.sources import cut_to_tokens, held_out_modules, read_module, stdlib_source
from kvcomplete.completion.cache.session import EditMode, Session
from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine
from kvcomplete.completion.model.runner import ModelRunner
from kvcomplete.completion.model.spec import LoadedModel
from kvcomplete.completion.text.mirror import TextChange, TokenMirror
from kvcomplete.completion.text.vocab import Vocabulary

MODES = ("pie", "full", "naive")
FOLLOWING = {"pie": EditMode.PIE, "naive": EditMode.NAIVE}  # the modes that follow the edit in their cache
UPDATE_REPEATS = 3
EDIT_LINE = "        result = transform(value, options)\n"


class ModeEngine(Engine):
    """An engine whose sessions follow edits in ``mode``: naive reuse is a measurement, not a setting."""

    def __init__(self, settings: Settings, loaded: LoadedModel, mode: EditMode) -> None:
        super().__init__(settings, loaded=loaded)
        self.mode = mode

    @property
    def edit_mode(self) -> EditMode:
        return self.mode


def edit_similarity(prediction: str, truth: str) -> float:
    """difflib's similarity ratio (2·matches / total length), 1.0 for equal strings."""
    return difflib.SequenceMatcher(None, prediction, truth).ratio()


def predict_after_edit(engine: Engine, uri: str, sample: EditSample) -> dict:
    """Open the document before the edit, encode it (as an editor's earlier request would), apply the edit
    and predict the cursor's line."""
    engine.open(uri, sample.before)
    engine.complete(uri, len(sample.before), max_tokens=1)
    engine.documents[uri].shown = None  # the warm-up's suggestion must not answer by type-along
    engine.change(uri, sample.changes)
    assert engine.text(uri) == sample.after, "edit sample does not rebuild the real file"
    return _predict(engine, uri)


def predict_fresh(engine: Engine, uri: str, sample: EditSample) -> dict:
    """The full re-encode: the document after the edit, encoded from scratch, then the cursor's line."""
    engine.open(uri, sample.after)
    return _predict(engine, uri)


def _predict(engine: Engine, uri: str) -> dict:
    """The first line predicted at the end of ``uri`` and the time the cache update took."""
    result = engine.complete(uri, len(engine.text(uri)))
    engine.close(uri)
    text = result.suggestions[0].text if result.suggestions else ""
    return {"prediction": text.split("\n", 1)[0].strip(), "update_ms": result.timings_ms["cache_update"]}


def edit_samples(vocab: Vocabulary, scale: Scale) -> list[EditSample]:
    """Samples from ``scale.edit_modules`` held-out modules (every ``scale.module_every``-th, sorted)."""
    samples: list[EditSample] = []
    modules = 0
    for path in held_out_modules(scale.module_every, min_chars=4 * scale.edit_context_tokens):
        found = module_samples(path.name, read_module(path), vocab, scale.edit_context_tokens)
        if len(found) == len(TASKS):  # only modules that give every task, so tasks share their targets
            samples += found
            modules += 1
        if modules == scale.edit_modules:
            break
    return samples


def measure_tasks(fresh: Engine, scale: Scale) -> tuple[list[dict], list[dict]]:
    """(one row per task and mode, one record per sample with every mode's prediction); ``fresh`` runs the
    full re-encodes, and gives its settings and model to the engines of the other modes."""
    following = {name: ModeEngine(fresh.settings, fresh.loaded, mode) for name, mode in FOLLOWING.items()}
    records = []
    for number, sample in enumerate(edit_samples(fresh.vocab, scale)):
        uri = f"file:///bench/edits/{number}.py"
        results = {"full": predict_fresh(fresh, uri, sample),
                   **{name: predict_after_edit(engine, uri, sample) for name, engine in following.items()}}
        records.append({"task": sample.task, "module": sample.module, "target": sample.target,
                        **{f"{name}_prediction": results[name]["prediction"] for name in MODES},
                        **{f"{name}_update_ms": results[name]["update_ms"] for name in MODES}})
    rows = []
    for task in TASKS:
        chosen = [record for record in records if record["task"] == task]
        targets = [record["target"] for record in chosen]
        full = [record["full_prediction"] for record in chosen]
        for name in MODES:
            predictions = [record[f"{name}_prediction"] for record in chosen]
            rows.append({
                "task": task, "mode": name, "samples": len(chosen),
                "exact_match": _mean([p == t for p, t in zip(predictions, targets)]),
                "edit_similarity": _mean([edit_similarity(p, t) for p, t in zip(predictions, targets)]),
                "same_as_full": _mean([p == f for p, f in zip(predictions, full)]),
                "update_ms": _median([record[f"{name}_update_ms"] for record in chosen])})
    return rows, records


def _mean(values: list) -> float | None:
    return round(statistics.fmean(values), 3) if values else None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def measure_update_time(runner: ModelRunner, vocab: Vocabulary, text: str) -> dict:
    """PIE vs re-encoding from the edit vs a full encode, for one line inserted mid-file."""
    middle = text.index("\n", len(text) // 2) + 1
    change = TextChange(middle, middle, EDIT_LINE)
    times: dict[str, list[float]] = {"pie": [], "reencode_from_edit": [], "full_encode": []}
    for _ in range(UPDATE_REPEATS):
        for mode, key in ((EditMode.PIE, "pie"), (EditMode.REENCODE, "reencode_from_edit")):
            document = TokenMirror(vocab, text)
            session = Session(runner, document.tokens, mode)
            edit = document.apply(change)
            times[key].append(_timed(lambda: session.apply(edit)))
        times["full_encode"].append(_timed(lambda: Session(runner, document.tokens, EditMode.REENCODE)))
    medians = {key: _median(values) for key, values in times.items()}
    return {"tokens": len(document.tokens), "edit_tokens": edit.delta,
            **{f"{key}_ms": value for key, value in medians.items()},
            "speedup_vs_full_encode": round(medians["full_encode"] / medians["pie"], 1),
            "speedup_vs_reencode_from_edit": round(medians["reencode_from_edit"] / medians["pie"], 1)}


def run(settings: Settings, loaded: LoadedModel, scale: Scale) -> dict:
    settings = settings.replace(suggestions=1, max_tokens=scale.edit_max_tokens, speculation=False,
                                stale_budget=10**9)  # measure PIE itself: never refresh stale K/V
    fresh = Engine(settings, loaded=loaded)
    tasks, samples = measure_tasks(fresh, scale)
    vocab = fresh.vocab
    update_time = [measure_update_time(fresh.runner, vocab, cut_to_tokens(stdlib_source(size, vocab), size, vocab))
                   for size in scale.update_sizes]
    return {"tasks": tasks, "update_time": update_time, "samples": samples, "setup": samples_setup(scale)}


def samples_setup(scale: Scale) -> dict:
    """How ``edit_samples`` chose the samples, for a suite's result."""
    return {"context_tokens": scale.edit_context_tokens, "modules": scale.edit_modules,
            "module_every": scale.module_every, "max_tokens": scale.edit_max_tokens}


def samples_described(setup: dict) -> str:
    return (f"{setup['modules']} held-out modules (every {setup['module_every']}th standard-library module, "
            f"sorted), contexts of ~{setup['context_tokens']} tokens, at most {setup['max_tokens']} tokens generated")


def markdown(result: dict) -> str:
    return (f"Greedy next-line prediction after an edit: {samples_described(result['setup'])}. exact_match / "
            "edit_similarity: against the real line; same_as_full: the prediction equals the full re-encode's; "
            "update_ms: the engine's cache update after the edit (full: encoding the edited document from "
            "scratch).\n\n"
            + table(result["tasks"]) + f"\nOne line inserted mid-file, median of {UPDATE_REPEATS}:\n\n"
            + table(result["update_time"]))
