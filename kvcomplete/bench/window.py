"""The *window* suite: how large the context window should be — next-line quality and the first request's cost
for contextTokens of 512 to 4096, on the same cases in one run — and what a change of the cross-file context
segment in front of the window costs: PIE (encode the new snippet, re-rotate the document behind it) against
re-encoding from the change, side by side.

Cases are code lines in the second half of large standard-library modules (far from the file's start, so the
window size matters): the line is removed, the cursor put after its indentation, and suggestion #1's first line
compared with it (edit similarity, exact match). Each case opens the file in a fresh engine (the same loaded
model), so "first request" includes encoding the window's part before the cursor.
"""

from __future__ import annotations

import statistics
import time

from kvcomplete.bench.edits import edit_similarity
from kvcomplete.bench.report import table
from kvcomplete.bench.scale import Scale
from kvcomplete.bench.sources import next_line_cases, read_module, stdlib_modules
from kvcomplete.completion.cache.session import EditMode, Session
from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine
from kvcomplete.completion.model.runner import ModelRunner
from kvcomplete.completion.model.spec import LoadedModel

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
    return {"rows": rows, "context_change": context_change(loaded)}


def context_change(loaded: LoadedModel, document_tokens: int = 2048, snippet_tokens: int = 128) -> dict:
    """Two snippets in front of a document; the second replaced by another: median of 3 per mode."""
    runner = ModelRunner(loaded)

    def tokens(text: str) -> list[int]:
        return loaded.tokenizer(text, add_special_tokens=False)["input_ids"]

    modules = [read_module(path) for path in stdlib_modules()]
    document = tokens(modules[40])[:document_tokens]
    snippets = [tokens(f"# {name}.py\n{text[:600]}\n\n")[:snippet_tokens]
                for name, text in zip("abc", modules[10:13])]
    before, after = snippets[0] + snippets[1] + document, snippets[0] + snippets[2] + document
    result = {}
    for mode in (EditMode.PIE, EditMode.REENCODE):
        times = []
        for _ in range(3):
            session = Session(runner, before, mode)
            encoded, started = runner.tokens_encoded, time.perf_counter()
            session.sync(after)
            times.append((time.perf_counter() - started) * 1000)
            result[f"{mode.value}_tokens_encoded"] = runner.tokens_encoded - encoded
        result[f"{mode.value}_ms"] = round(statistics.median(times))
    result["pie_share_of_reencode"] = round(result["pie_ms"] / result["reencode_ms"], 3)
    return result


def markdown(result: dict) -> str:
    return (table(result["rows"]) + "\nSuggestion #1's first line against the real line, cursor after its "
            "indentation, in the second half of large modules; first request: opening the file, then completing "
            "(the window encoded inside it).\n\nA context-segment change (a snippet replaced in front of a "
            "2,048-token document):\n\n" + table([result["context_change"]]))
