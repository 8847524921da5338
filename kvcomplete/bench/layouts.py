"""`kvcomplete bench layouts` (not part of `all`): what keeping each prompt layout's cache current costs.

The same editing script (typing at a cursor, cursor moves, an edit far above the cursor) is replayed on
one real file per layout, bringing the cache up to date as a completion request would (PIE updates, and a
refresh when staleness passes the budget), without decoding. The default model has no FIM tokens, so the
model is a copy of it with the three StarCoder FIM tokens added (new, untrained embeddings): costs depend on
shapes and token counts, not on what the model learned. Which layout completes better needs a FIM-trained
model and is not measured here.
"""

from __future__ import annotations

import json
import platform
import sys
import tempfile
import time
from pathlib import Path

from kvcomplete.completion.config import Settings

FIM_NAMES = ("<fim_prefix>", "<fim_suffix>", "<fim_middle>")
LAYOUTS = ("ltr", "psm", "spm")
TYPED = "if not values:\n        return None\n"


def with_fim_tokens(settings: Settings, folder: Path) -> Path:
    """A copy of ``settings``' model whose tokenizer and embeddings have the FIM tokens added."""
    from kvcomplete.completion.model import loading

    loaded = loading.load(settings)
    tokenizer, model = loaded.tokenizer, loaded.model
    tokenizer.add_special_tokens({"additional_special_tokens": list(FIM_NAMES)})
    model.resize_token_embeddings(len(tokenizer))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def script(text: str) -> list[tuple[str, int, str | None]]:
    """(what, cursor, typed text or None for a cursor move) steps on ``text``, with offsets as they fall."""
    lines = text.splitlines(keepends=True)
    def line_start(number: int) -> int:
        return sum(len(line) for line in lines[:number])
    middle = len(lines) // 2
    steps: list[tuple[str, int, str | None]] = [("open", line_start(middle), None)]
    steps += [("type", line_start(middle) + i, char) for i, char in enumerate(TYPED)]
    end = line_start(middle) + len(TYPED)
    steps += [("move", end + line_start(middle + 10) - line_start(middle), None),
              ("move", line_start(middle - 20), None),
              ("edit above", line_start(middle - 60), "import functools\n"),
              ("move", line_start(middle - 20) + len("import functools\n"), None)]
    return steps


def replay(engine, text: str) -> list[dict]:
    from kvcomplete.completion.text.mirror import TextChange

    uri = "file:///bench/layout.py"
    engine.open(uri, text)
    rows, cursor = [], 0
    for what, at, typed in script(text):
        while what != "open" and engine.background_step():  # idle time between steps: the window's rest, refreshes
            pass
        encoded = engine.runner.tokens_encoded
        started = time.perf_counter()
        if typed is not None:
            engine.change(uri, [TextChange(at, at, typed)])
            cursor = at + len(typed) if what == "type" else cursor + len(typed) * (at <= cursor)
        else:
            cursor = at
        session, prompt = engine.prepare(uri, cursor)
        stale = session.stale_count(prompt.prefix_len + 1)
        refreshed = session.refresh() if stale > engine.settings.stale_budget else 0
        rows.append({"step": what, "ms": (time.perf_counter() - started) * 1000,
                     "tokens_encoded": engine.runner.tokens_encoded - encoded, "stale_after": session.stale_count(
                         prompt.prefix_len + 1), "refreshed": refreshed, "cache_tokens": session.length})
    return rows


def summarize(rows: list[dict]) -> dict:
    summary = {}
    for kind in ("open", "type", "move", "edit above"):
        chosen = [row for row in rows if row["step"] == kind]
        summary[kind] = {"steps": len(chosen), "ms": round(sum(r["ms"] for r in chosen), 1),
                         "tokens_encoded": sum(r["tokens_encoded"] for r in chosen),
                         "max_stale": max(r["stale_after"] for r in chosen),
                         "refreshes": sum(1 for r in chosen if r["refreshed"])}
    return summary


def main(settings: Settings, quick: bool = False, as_json: bool = False) -> int:
    from kvcomplete.bench.sources import cut_to_tokens, stdlib_source
    from kvcomplete.completion.engine import Engine
    from kvcomplete.completion.text.vocab import Vocabulary

    with tempfile.TemporaryDirectory() as folder:
        model = with_fim_tokens(settings, Path(folder))
        results = {}
        for layout in LAYOUTS:
            engine = Engine(settings.replace(model=str(model), fim_layout=layout))
            vocab, size = Vocabulary(engine.loaded.tokenizer), 1024 if quick else 2048
            text = cut_to_tokens(stdlib_source(size, vocab), size, vocab)
            results[layout] = summarize(replay(engine, text))
    report = {"suite": "layouts", "machine": platform.platform(), "python": sys.version.split()[0],
              "stale_budget": settings.stale_budget, "typed_chars": len(TYPED), "layouts": results}
    if as_json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{'layout':>6} {'step':>10} {'steps':>5} {'ms':>9} {'encoded':>8} {'max stale':>9} {'refreshes':>9}")
    for layout, summary in results.items():
        for step, row in summary.items():
            print(f"{layout:>6} {step:>10} {row['steps']:>5} {row['ms']:>9.1f} {row['tokens_encoded']:>8} "
                  f"{row['max_stale']:>9} {row['refreshes']:>9}")
    return 0
