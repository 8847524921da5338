"""`kvcomplete demo`: complete the bundled example file with the default model and show it as an editor would.

This is the first step of the guided replay of a real editing session (the demo/benchmark issue).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from completion.config import Settings

EXAMPLE = Path(__file__).parent / "examples" / "fibonacci.py"


def main(settings: Settings) -> int:
    from completion.engine import Engine

    text = EXAMPLE.read_text()
    started = time.perf_counter()
    engine = Engine(settings, lambda message, fraction: print(f"kvcomplete: {message}", file=sys.stderr))
    print(f"model {engine.info['model']} on {engine.info['device']} ({engine.info['dtype']}), "
          f"loaded in {time.perf_counter() - started:.1f} s")
    uri = EXAMPLE.resolve().as_uri()
    engine.open(uri, text)
    result = engine.complete(uri, len(text))
    tail = "\n".join(text.rstrip("\n").split("\n")[-4:])
    print(f"\n{EXAMPLE.name}, cursor at the end:\n{'-' * 60}\n{tail}\n", end="")
    for number, suggestion in enumerate(result.suggestions, 1):
        print(f"  [{number}/{len(result.suggestions)}] \u2192 {suggestion.text!r}")
    timings = result.timings_ms
    print(f"{'-' * 60}\nencode {timings['cache_update']:.0f} ms, decode {timings['decode']:.0f} ms "
          f"({len(result.suggestions)} suggestions in one pass per step)")
    return 0 if result.suggestions else 1
