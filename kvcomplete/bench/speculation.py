"""The *speculation* suite: plain greedy vs CopySpec vs Superposed vs all drafters, k = 1 and k = 4.

Next-line completions at line starts inside functions (the line removed, the cursor after its
indentation), on the same cache state for every mode, the order of the modes rotating from case to
case (the CPU may be shared): wall time, tokens/s, forwards, draft acceptance,
and whether suggestion #1 was identical to plain greedy (it must be: speculation is lossless).
"""

from __future__ import annotations

import time

from completion.config import Settings
from completion.engine import Engine
from completion.models import LoadedModel
from kvcomplete.bench.report import table
from kvcomplete.bench.scale import Scale
from kvcomplete.bench.sources import cut_to_tokens, next_line_cases, stdlib_source

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


def measure(engines: dict[str, Engine], text: str, cases: int, k: int) -> list[dict]:
    """One row per mode: wall time, tokens/s, forwards and acceptance over the same next-line cases."""
    totals = {name: 0.0 for name in engines}
    firsts: dict[str, list[str]] = {name: [] for name in engines}
    samples = next_line_cases(text, cases)
    names = list(engines)
    for number, (document, cursor, _) in enumerate(samples):
        for name in names[number % len(names):] + names[: number % len(names)]:  # each mode goes first in turn
            engine = engines[name]
            uri = f"file:///bench/{number}.py"
            engine.open(uri, document)
            engine.complete(uri, cursor, max_tokens=1)  # encode the file first: only decoding is timed
            engine.documents[uri].shown = None  # the warm-up's suggestion must not answer by type-along
            started = time.perf_counter()
            suggestions = engine.complete(uri, cursor).suggestions
            totals[name] += (time.perf_counter() - started) * 1000
            firsts[name].append(suggestions[0].text if suggestions else "")
            engine.close(uri)
    rows = []
    for name, engine in engines.items():
        stats = engine.stats()
        rows.append({"k": k, "mode": name, "cases": len(samples),
                     "first_identical_to_plain": sum(a == b for a, b in zip(firsts[name], firsts["plain"])),
                     "ms_per_request": round(totals[name] / len(samples), 1),
                     "speedup_vs_plain": round(totals["plain"] / totals[name], 2),
                     "tokens_per_s": round(stats["tokensGenerated"] / (totals[name] / 1000), 1),
                     "forwards": stats["forwards"] - len(samples),  # less the encode-only warm-up requests
                     "drafts_proposed": stats["draftTokensProposed"],
                     "drafts_accepted": stats["draftTokensAccepted"]})
    return rows


def run(settings: Settings, loaded: LoadedModel, scale: Scale) -> dict:
    size, rows = scale.speculation_tokens, []
    for k in (1, 4):
        engines = engines_for(settings, loaded, k)
        vocab = engines["plain"].vocab
        rows += measure(engines, cut_to_tokens(stdlib_source(size, vocab), size, vocab), scale.speculation_cases, k)
    return {"rows": rows, "setup": {"tokens": size, "cases": scale.speculation_cases, "max_tokens": MAX_TOKENS}}


def markdown(result: dict) -> str:
    setup = result["setup"]
    return (f"{setup['cases']} next-line cases in a {setup['tokens']}-token standard-library module, at most "
            f"{setup['max_tokens']} tokens, the same cache state for every mode; forwards exclude the "
            "encode-only warm-up request.\n\n" + table(result["rows"]))
