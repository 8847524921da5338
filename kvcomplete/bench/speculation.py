"""The *speculation* suite: plain greedy vs CopySpec vs Superposed vs all drafters, k = 1 and k = 4.

Two sets of cases: next-line completions at line starts inside functions of a standard-library module (the
line removed, the cursor after its indentation), and completions after an edit (the edits suite's samples:
the PIE paper's insertion, deletion and multi-place edits, followed with PIE, the rest of the real line to
predict). The same cache state for every mode, the order of the modes rotating from case to case (the CPU
may be shared): wall time, tokens/s, forwards, draft acceptance, and whether suggestion #1 was identical to
plain greedy (lossless: always in fp32; in bf16 a near-tie can round the other way, docs/benchmarks.md).
"""

from __future__ import annotations

import time
from typing import Callable

from kvcomplete.bench.alternatives import suggest_after_edit
from kvcomplete.bench.edit_tasks import EditSample
from kvcomplete.bench.edits import edit_samples, samples_described, samples_setup
from kvcomplete.bench.report import table
from kvcomplete.bench.scale import Scale
from kvcomplete.bench.sources import cut_to_tokens, next_line_cases, stdlib_source
from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine, Suggestion
from kvcomplete.completion.model.spec import LoadedModel

# (name, speculation on, drafters) compared on the same cases
MODES = (("plain", False, ()), ("copyspec", True, ("copy",)), ("superposed", True, ("superposed",)),
         ("all", True, ("copy", "superposed")))
MAX_TOKENS = 32


def engines_for(settings: Settings, loaded: LoadedModel, k: int) -> dict[str, Engine]:
    """One engine per mode (each with its own drafter state: no mode learns from another's suggestions)."""
    engines = {}
    for name, speculation, drafters in MODES:
        engines[name] = Engine(settings.replace(suggestions=k, max_tokens=MAX_TOKENS, speculation=speculation),
                               loaded=loaded, drafters=drafters)
    return engines


Request = Callable[[Engine, str], tuple[list[Suggestion], float]]  # (engine, uri) -> (suggestions, decode ms)


def next_line_request(document: str, cursor: int) -> Request:
    """Complete at ``cursor`` of ``document``, encoded first: only decoding is timed."""
    def request(engine: Engine, uri: str) -> tuple[list[Suggestion], float]:
        engine.open(uri, document)
        engine.complete(uri, cursor, max_tokens=1)
        engine.documents[uri].shown = None  # the warm-up's suggestion must not answer by type-along
        started = time.perf_counter()
        suggestions = engine.complete(uri, cursor).suggestions
        milliseconds = (time.perf_counter() - started) * 1000
        engine.close(uri)
        return suggestions, milliseconds
    return request


def after_edit_request(sample: EditSample) -> Request:
    """Follow ``sample``'s edit with PIE, then complete at its cursor (the cache update is timed too)."""
    def request(engine: Engine, uri: str) -> tuple[list[Suggestion], float]:
        result = suggest_after_edit(engine, uri, sample, engine.settings.suggestions)
        return result["suggestions"], result["ms"]
    return request


def measure(engines: dict[str, Engine], requests: list[Request], k: int, cases: str) -> list[dict]:
    """One row per mode: wall time, tokens/s, forwards and acceptance over the same requests."""
    totals = {name: 0.0 for name in engines}
    firsts: dict[str, list[str]] = {name: [] for name in engines}
    names = list(engines)
    for number, request in enumerate(requests):
        for name in names[number % len(names):] + names[: number % len(names)]:  # each mode goes first in turn
            suggestions, milliseconds = request(engines[name], f"file:///bench/{number}.py")
            totals[name] += milliseconds
            firsts[name].append(suggestions[0].text if suggestions else "")
    rows = []
    for name, engine in engines.items():
        stats = engine.stats()
        rows.append({"cases": cases, "k": k, "mode": name, "requests": len(requests),
                     "first_identical_to_plain": sum(a == b for a, b in zip(firsts[name], firsts["plain"])),
                     "ms_per_request": round(totals[name] / len(requests), 1),
                     "speedup_vs_plain": round(totals["plain"] / totals[name], 2),
                     "tokens_per_s": round(stats["tokensGenerated"] / (totals[name] / 1000), 1),
                     "forwards": stats["forwards"] - len(requests),  # less the encode-only warm-up requests
                     "drafts_proposed": stats["draftTokensProposed"],
                     "drafts_accepted": stats["draftTokensAccepted"]})
    return rows


def run(settings: Settings, loaded: LoadedModel, scale: Scale) -> dict:
    size, rows = scale.speculation_tokens, []
    vocab = Engine(settings, loaded=loaded).vocab
    text = cut_to_tokens(stdlib_source(size, vocab), size, vocab)
    case_sets = {"next line": [next_line_request(document, cursor)
                               for document, cursor, _ in next_line_cases(text, scale.speculation_cases)],
                 "after an edit": [after_edit_request(sample)
                                   for sample in edit_samples(vocab, scale)[: scale.speculation_cases]]}
    for cases, requests in case_sets.items():
        for k in (1, 4):
            rows += measure(engines_for(settings, loaded, k), requests, k, cases)
    return {"rows": rows, "setup": {"tokens": size, "cases": scale.speculation_cases, "max_tokens": MAX_TOKENS,
                                    "edits": samples_setup(scale)}}


def markdown(result: dict) -> str:
    setup = result["setup"]
    return (f"{setup['cases']} next-line cases in a {setup['tokens']}-token standard-library module, at most "
            f"{setup['max_tokens']} tokens, the same cache state for every mode; after an edit: the edits suite's "
            f"first {setup['cases']} samples ({samples_described(setup['edits'])}), the PIE update timed too; "
            "forwards exclude the encode-only warm-up request.\n\n" + table(result["rows"]))
