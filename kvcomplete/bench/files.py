"""The *files* suite: what a file's size costs, side by side in one run — a 200-line file, a ~150 KB one and a
~1 MB one, each opened in a fresh engine (the same loaded model) and used as an editor would:

- **first**: the first request after opening, in the middle of the file, before any background work (the
  worst case: the window's part before the cursor is encoded inside the request);
- **background**: the idle-time work that follows (the rest of the window), in steps and seconds;
- **typing**: characters typed at the cursor, a request after each (median over them), split into cache
  update and decoding;
- **jump**: a request after moving the cursor to 80 % of the file (the window is re-placed).

Requests decode to the end (no latency budget): the figures compare sizes, not budgets.
"""

from __future__ import annotations

import statistics
import time

from kvcomplete.bench.report import table
from kvcomplete.bench.scale import Scale
from kvcomplete.bench.sources import read_module, stdlib_modules
from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine, TextChange
from kvcomplete.completion.model.spec import LoadedModel

SIZES = {"200 lines": None, "150 KB": 150_000, "1 MB": 990_000}  # None: the first 200 lines of a module
TYPED = "value = "


def sources() -> dict[str, str]:
    """A file of each size, from the standard library (a module's first 200 lines, or modules joined)."""
    modules = [read_module(path) for path in stdlib_modules()]
    texts = {}
    for name, size in SIZES.items():
        if size is None:
            texts[name] = "".join(next(m for m in modules if m.count("\n") > 400).splitlines(True)[:200])
            continue
        joined, index = "", 0
        while len(joined.encode()) < size:
            joined += modules[index] + "\n\n"
            index += 1
        texts[name] = joined.encode()[:size].decode(errors="ignore").rsplit("\n", 1)[0] + "\n"
    return texts


def line_start_near(text: str, fraction: float) -> int:
    """The offset of the first code line at or after ``fraction`` of ``text``, after its indentation."""
    at = text.index("\n", int(len(text) * fraction)) + 1
    while True:
        end = text.index("\n", at)
        line = text[at:end]
        if line.strip() and not line.lstrip().startswith(("#", '"', "'", "@")):
            return at + len(line) - len(line.lstrip())
        at = end + 1


def measure(engine: Engine, text: str, typed: int) -> dict:
    uri = "file:///bench/file.py"
    engine.open(uri, text, "python")
    cursor = line_start_near(text, 0.5)
    started = time.perf_counter()
    first = engine.complete(uri, cursor)
    first_ms = (time.perf_counter() - started) * 1000
    started, steps = time.perf_counter(), 0
    while engine.background_step():
        steps += 1
    background_s = time.perf_counter() - started
    typing = []
    for char in TYPED[:typed]:
        engine.change(uri, [TextChange(cursor, cursor, char)])
        cursor += 1
        engine.documents[uri].shown = None  # a decoded answer, not type-along
        answer = engine.complete(uri, cursor)
        typing.append(answer.timings_ms)
    text = engine.text(uri)
    jump = line_start_near(text, 0.8)
    started = time.perf_counter()
    engine.complete(uri, jump)
    jump_ms = (time.perf_counter() - started) * 1000
    stats = engine.stats()
    return {"bytes": len(text.encode()), "tokens": len(engine.documents[uri].mirror.tokens),
            "first_ms": round(first_ms), "first_cache_update_ms": round(first.timings_ms["cache_update"]),
            "background_steps": steps, "background_s": round(background_s, 2),
            "typing_ms": round(statistics.median(t["total"] for t in typing)),
            "typing_cache_update_ms": round(statistics.median(t["cache_update"] for t in typing), 1),
            "typing_decode_ms": round(statistics.median(t["decode"] for t in typing)),
            "jump_ms": round(jump_ms), "window_tokens": stats["windowTokens"],
            "kv_mb": round(stats["kvBytes"] / 2**20, 1)}


def run(settings: Settings, loaded: LoadedModel, scale: Scale) -> dict:
    typed = 3 if scale.latency_quick else len(TYPED)
    rows = []
    for name, text in sources().items():
        engine = Engine(settings.replace(suggestions=1), loaded=loaded)
        rows.append({"file": name, **measure(engine, text, typed)})
    return {"rows": rows, "typed": typed}


def markdown(result: dict) -> str:
    return (table(result["rows"]) + f"\nfirst: the first request after opening, mid-file, before background work; "
            f"typing: median of {result['typed']} requests, one per typed character; jump: to 80 % of the file.\n")
