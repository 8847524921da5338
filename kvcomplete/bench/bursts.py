"""A burst of real edits, then a request at once: time to the first answer through the LSP server.

The edits suite's samples (insertion, deletion, multi-place edits of held-out standard-library modules,
``edit_tasks.py``) are opened in a fresh server, left a reading pause (idle work encodes the window), then
sent as didChanges one right after the other, and an inline completion is asked at the cursor at once, as an
editor's first request after the user pasted or undid a block. Measured at the client, per latency budget
(one fresh server each, one after the other in one run).

``python -P -m kvcomplete.bench.bursts [--budgets 0 300] [--samples 24]`` (-P keeps the checkout off sys.path).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Sequence

from kvcomplete.bench.edit_tasks import EditSample, module_samples
from kvcomplete.bench.sources import held_out_modules, read_module
from kvcomplete.completion.config import Settings
from kvcomplete.completion.text.vocab import Vocabulary
from kvcomplete.demo.lsp_client import Editor
from kvcomplete.demo.server import served, wait_for_model

MODULE_EVERY = 23  # held-out modules: every 23rd of the standard library (the edits suite's rule)
CONTEXT_TOKENS = 512
READING_PAUSE_S = 1.0


def samples(vocab: Vocabulary, count: int) -> list[EditSample]:
    """The first ``count`` samples of the held-out modules."""
    found: list[EditSample] = []
    for path in held_out_modules(MODULE_EVERY, 8 * CONTEXT_TOKENS):
        found += module_samples(path.name, read_module(path), vocab, CONTEXT_TOKENS)
        if len(found) >= count:
            break
    return found[:count]


async def first_answers_ms(settings: Settings, cases: Sequence[EditSample]) -> list[float]:
    """Per sample: milliseconds from the request after the burst to its answer, in one fresh server."""
    times = []
    async with served(settings) as client:
        for number, sample in enumerate(cases):
            uri = f"file:///bursts/{number}_{sample.module}"
            editor = Editor(client, uri, sample.before)
            await wait_for_model(client, uri)
            await asyncio.sleep(READING_PAUSE_S)
            for change in sample.changes:
                editor.replace(change.start, change.end, change.text)
            editor.cursor = len(editor.text)  # the sample's cursor ends the document
            started = time.perf_counter()
            await client.inline(uri, editor.position())
            times.append((time.perf_counter() - started) * 1000)
    return times


def summary(times: Sequence[float]) -> dict:
    ordered = sorted(times)
    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
            "max_ms": round(ordered[-1], 1)}


def run(settings: Settings, vocab: Vocabulary, budgets: Sequence[int], count: int) -> dict:
    """The first answer's p50 / p95 / max per latency budget, over the same ``count`` samples."""
    cases = samples(vocab, count)
    return {"samples": len(cases), "tasks": sorted({case.task for case in cases}),
            "budgets": {budget: summary(asyncio.run(first_answers_ms(settings.replace(latency_budget_ms=budget),
                                                                      cases)))
                        for budget in budgets}}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -P -m kvcomplete.bench.bursts", description=__doc__)
    parser.add_argument("--budgets", type=int, nargs="+", default=[0, 300], help="latencyBudgetMs values")
    parser.add_argument("--samples", type=int, default=24)
    parser.add_argument("--model", help="a model folder (default: the embedded default model)")
    args = parser.parse_args(argv)
    from transformers import AutoTokenizer

    from kvcomplete.completion.model.loading import resolve_source

    settings = Settings(model=args.model, max_tokens=24)
    vocab = Vocabulary(AutoTokenizer.from_pretrained(resolve_source(args.model)[0], local_files_only=True))
    print(json.dumps(run(settings, vocab, args.budgets, args.samples), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
