"""Replay typing part of a real file into ``python -m lsp_server`` and measure what a user waits for.

    python -m tests.lsp_server.replay [--file PATH] [--start-line N] [--lines N] [--max-tokens N] [--model M]

Lines ``start``…``start + lines`` are removed from the file, which is opened, and typed back one key at a
time (one didChange each), as an editor sends them. After each word (a space, a bracket, a dot, a line
break) an inline completion is requested and awaited, as an editor does once its debounce fires:
keystroke-to-result latency is the time from that request to its answer, seen by the client. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path


from tests.lsp_server.client import ROOT, Editor, LspClient

WORD_ENDS = set(" ([{.,:=\n")


def percentiles(values: list[float]) -> dict:
    """p50/p95, and the share of answers under 50 ms (the engine's type-along answers need no model step)."""
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered), 1),
            "p95": round(ordered[max(0, round(0.95 * len(ordered)) - 1)], 1), "n": len(ordered),
            "under_50ms": round(sum(value < 50 for value in ordered) / len(ordered), 2)}


async def replay(path: Path, start: int, count: int, options: dict) -> dict:
    lines = path.read_text().splitlines(keepends=True)
    typed = "".join(lines[start:start + count])
    client = LspClient()
    await client.start()
    await client.initialize(options, encodings=["utf-16"])
    editor = Editor(client, path.resolve().as_uri(), "".join(lines[:start] + lines[start + count:]))
    editor.cursor = len("".join(lines[:start]))
    await client.inline(editor.uri, editor.position())  # waits for the model, warms the cache

    latencies, suggestions = [], []
    change_started = time.perf_counter()
    for key in typed:
        editor.type(key)
        if key in WORD_ENDS:
            started = time.perf_counter()
            items = await client.inline(editor.uri, editor.position())
            latencies.append((time.perf_counter() - started) * 1000)
            suggestions.append(items[0].insert_text if items else "")
    typing_ms = (time.perf_counter() - change_started) * 1000 - sum(latencies)
    await editor.check_in_sync()
    stats = await client.stats()
    await client.stop_server()
    return {
        "file": str(path), "typed_chars": len(typed), "requests": len(latencies),
        "keystroke_to_result_ms": percentiles(latencies),
        "did_change_ms_per_key_over_stdio": round(typing_ms / len(typed), 3),
        "server_latency_ms": stats["latencyMs"], "engine_stats": stats,
        "sample_suggestions": suggestions[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, default=ROOT / "completion" / "config.py")
    parser.add_argument("--start-line", type=int, default=40)
    parser.add_argument("--lines", type=int, default=12)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--model", default=None, help="model folder (default: the embedded default model)")
    args = parser.parse_args()
    options = {"maxTokens": args.max_tokens, "model": args.model, "logLevel": "warning"}
    result = asyncio.run(replay(args.file, args.start_line, args.lines, options))
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
