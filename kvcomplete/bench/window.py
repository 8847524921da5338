"""The *window* suite: how large the context window should be — next-line quality and the first request's cost
for contextTokens of 512 to 4096, on the same cases in one run.

Cases are code lines in the second half of large standard-library modules (far from the file's start, so the
window size matters): the line is removed, the cursor put after its indentation, and suggestion #1's first line
compared with it (edit similarity, exact match). Each case opens the file in a fresh engine (the same loaded
model), so "first request" includes encoding the window's part before the cursor.
"""

from __future__ import annotations

import statistics
import time

from completion.config import Settings
from completion.engine import Engine
from completion.models import LoadedModel
from kvcomplete.bench.edits import edit_similarity
from kvcomplete.bench.report import table
from kvcomplete.bench.scale import Scale
from kvcomplete.bench.sources import next_line_cases, read_module, stdlib_modules

WINDOWS = (512, 1024, 2048, 4096)
MAX_TOKENS = 24


def cases(files: int, per_file: int) -> list[tuple[str, int, str]]:
    """``per_file`` next-line cases from the second half of each of ``files`` large modules."""
    large = [text for text in map(read_module, stdlib_modules()) if 60_000 < len(text) < 200_000][::3][:files]
    return [case for text in large for case in next_line_cases(text, 2 * per_file)[per_file:]]


def run(settings: Settings, loaded: LoadedModel, scale: Scale) -> dict:
    files, per_file = (2, 3) if scale.latency_quick else (6, 5)
    windows = WINDOWS[:3] if scale.latency_quick else WINDOWS
    chosen = cases(files, per_file)
    rows = []
    for window in windows:
        similarities, exact, first_ms = [], 0, []
        for text, cursor, truth in chosen:
            engine = Engine(settings.replace(context_tokens=window, suggestions=1, max_tokens=MAX_TOKENS,
                                             speculation=False), loaded=loaded)
            engine.open("file:///bench/window.py", text, "python")
            started = time.perf_counter()
            suggestions = engine.complete("file:///bench/window.py", cursor).suggestions
            first_ms.append((time.perf_counter() - started) * 1000)
            line = suggestions[0].text.split("\n")[0].strip() if suggestions else ""
            similarities.append(edit_similarity(line, truth))
            exact += line == truth
        rows.append({"context_tokens": window, "cases": len(chosen),
                     "edit_similarity": round(statistics.mean(similarities), 3), "exact": exact,
                     "first_request_ms_p50": round(statistics.median(first_ms))})
    return {"rows": rows}


def markdown(result: dict) -> str:
    return table(result["rows"]) + ("\nSuggestion #1's first line against the real line, cursor after its "
                                    "indentation, in the second half of large modules; first request: "
                                    "opening the file, then completing (the window encoded inside it).\n")
