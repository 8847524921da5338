"""The *alternatives* suite: are the k suggestions of a request worth cycling through? On real code after edits.

The edits suite's samples (the PIE paper's insertion / deletion / multi-place edits in held-out standard-library
modules, kvcomplete/bench/edit_tasks.py): the document before the edit is encoded, the edit is followed with
PIE, then the engine completes at the cursor, an auto-indented line start, with k = 1, 2 and 4 suggestions
(one engine per k).

Per k: items per request; duplicates up to whitespace (items equal, whitespace aside, to one before them in
the same request: must be 0) and alternatives that are suggestion #1 up to whitespace or a prefix of it;
top-1 and best-of-k edit similarity and exact match of an item's first line against the real line; forwards
and milliseconds per request. At k = 4, each ranking of completion/alternatives.RANKINGS re-orders the same
alternatives: best-of-2 and best-of-3 edit similarity under it, and how often it shows the best one first.
"""

from __future__ import annotations

import statistics
import time

from kvcomplete.bench.edit_tasks import EditSample
from kvcomplete.bench.edits import edit_samples, edit_similarity, samples_described, samples_setup
from kvcomplete.bench.report import table
from kvcomplete.bench.scale import Scale
from kvcomplete.completion.config import Settings
from kvcomplete.completion.decoding.alternatives import RANKING, RANKINGS, overlaps, rank, squeeze
from kvcomplete.completion.engine import Engine, Suggestion
from kvcomplete.completion.model.spec import LoadedModel

KS = (1, 2, 4)


def suggest_after_edit(engine: Engine, uri: str, sample: EditSample, k: int) -> dict:
    """Follow ``sample``'s edit with PIE, then request k suggestions at the cursor: them, forwards, time."""
    engine.open(uri, sample.before)
    engine.complete(uri, len(sample.before), max_tokens=1)  # encoded before the edit, as in an editor
    engine.documents[uri].shown = None  # the warm-up's suggestion must not answer by type-along
    engine.change(uri, sample.changes)
    forwards, started = engine.stats()["forwards"], time.perf_counter()
    suggestions = engine.complete(uri, len(sample.after), k=k).suggestions
    request = {"suggestions": suggestions, "ms": (time.perf_counter() - started) * 1000,
               "forwards": engine.stats()["forwards"] - forwards}
    engine.close(uri)
    return request


def first_line(suggestion: Suggestion) -> str:
    return suggestion.text.split("\n", 1)[0].strip()


def duplicates(suggestions: list[Suggestion]) -> int:
    """Items equal, whitespace aside, to an item before them."""
    keys = [squeeze(s.text) for s in suggestions]
    return sum(key in keys[:index] for index, key in enumerate(keys))


def best_of(suggestions: list[Suggestion], target: str, k: int) -> float:
    return max((edit_similarity(first_line(s), target) for s in suggestions[:k]), default=0.0)


def quality_row(k: int, requests: list[dict], targets: list[str]) -> dict:
    shown = [request["suggestions"] for request in requests]
    pairs = list(zip(shown, targets))
    return {
        "k": k, "requests": len(requests),
        "items_per_request": _mean([len(items) for items in shown]),
        "duplicates_up_to_whitespace": sum(duplicates(items) for items in shown),
        "alternatives_overlapping_1": sum(overlaps(alt.text, items[0].text) for items in shown for alt in items[1:]),
        "top1_edit_similarity": _mean([best_of(items, target, 1) for items, target in pairs]),
        "best_of_k_edit_similarity": _mean([best_of(items, target, k) for items, target in pairs]),
        "top1_exact": _mean([bool(items) and first_line(items[0]) == target for items, target in pairs]),
        "best_of_k_exact": _mean([any(first_line(s) == target for s in items) for items, target in pairs]),
        "forwards_per_request": _mean([request["forwards"] for request in requests]),
        "ms_per_request_median": round(statistics.median(request["ms"] for request in requests), 1),
    }


def ranking_rows(requests: list[dict], targets: list[str]) -> list[dict]:
    """Each ranking applied to the same k-item requests: how soon the alternatives show the best one."""
    rows = []
    for name in RANKINGS:
        best_first, best2, best3 = [], [], []
        for request, target in zip(requests, targets):
            items = request["suggestions"]
            if len(items) < 3:  # one alternative or none: every ranking shows the same
                continue
            ordered = [items[0], *rank(items[0], items[1:], name)]
            similarities = [edit_similarity(first_line(s), target) for s in ordered[1:]]
            best_first.append(similarities[0] == max(similarities))
            best2.append(best_of(ordered, target, 2))
            best3.append(best_of(ordered, target, 3))
        rows.append({"ranking": name, "in_use": name == RANKING, "requests": len(best_first),
                     "best_alternative_first": _mean(best_first), "best_of_2_edit_similarity": _mean(best2),
                     "best_of_3_edit_similarity": _mean(best3)})
    return rows


def _mean(values: list) -> float | None:
    return round(statistics.fmean(values), 3) if values else None


def run(settings: Settings, loaded: LoadedModel, scale: Scale) -> dict:
    # One engine per k: no k learns from another's suggestions (CopySpec's history), so each k's forwards
    # are what a user with that setting gets.
    engines = {k: Engine(settings.replace(max_tokens=scale.edit_max_tokens), loaded=loaded) for k in KS}
    samples = edit_samples(engines[1].vocab, scale)
    by_k: dict[int, list[dict]] = {k: [] for k in KS}
    for number, sample in enumerate(samples):
        for k, engine in engines.items():
            by_k[k].append(suggest_after_edit(engine, f"file:///bench/alternatives/{number}.py", sample, k))
    records = [{"task": sample.task, "module": sample.module, "target": sample.target,
                **{f"k{k}": [s.text for s in by_k[k][number]["suggestions"]] for k in KS}}
               for number, sample in enumerate(samples)]
    targets = [sample.target for sample in samples]
    return {"rows": [quality_row(k, by_k[k], targets) for k in KS],
            "rankings": ranking_rows(by_k[max(KS)], targets), "samples": records,
            "setup": {**samples_setup(scale), "speculation": settings.speculation}}


def markdown(result: dict) -> str:
    return (f"Requests at an auto-indented line start after an edit followed with PIE: {len(result['samples'])} "
            f"samples from {samples_described(result['setup'])} per suggestion. Similarity and exact match: an "
            "item's first line against the real line; best_of_k: the best of the request's items.\n\n"
            + table(result["rows"])
            + f"\nRankings of the alternatives of the k = {max(KS)} requests with at least two (in use: "
            f"`{RANKING}`):\n\n" + table(result["rankings"]))
