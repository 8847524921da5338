"""`kvcomplete bench edits|speculation`: measured side by side, in one run, on real code.

Files are real Python source (the running interpreter's standard library, chosen by a fixed rule).
- edits: one line inserted in the middle of a file cut to ~1k / ~4k tokens; PIE vs re-encoding from the
  edit vs a full encode, interleaved, median of repeats.
- speculation: next-line completions at line starts inside functions (the line removed, the cursor after
  its indentation), on the same cache state: plain greedy vs CopySpec only vs Superposed only vs all
  drafters, k = 1 and k = 4: wall time, tokens/s, forwards, draft acceptance, and whether suggestion #1
  was identical to plain greedy (it must be).
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from completion.config import Settings

SIZES = (1024, 4096)
QUICK_SIZES = (1024,)
REPEATS = 3
EDIT_LINE = "        result = transform(value, options)\n"


def stdlib_source(min_tokens: int, vocab) -> str:
    """The first stdlib module (by a fixed rule: sorted name) holding at least ``min_tokens`` tokens."""
    root = Path(json.__file__).parent.parent
    for path in sorted(root.glob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if len(text) > 6 * min_tokens and len(vocab.encode(text[: 8 * min_tokens])) >= min_tokens:
            return text
    raise RuntimeError("no standard-library module is large enough")


def cut_to_tokens(text: str, tokens: int, vocab) -> str:
    ids = vocab.encode(text[: 8 * tokens])[:tokens]
    return vocab.decode(ids)


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def measure_edit(runner, vocab, text: str) -> dict:
    from completion.document import Document, TextChange
    from completion.session import EditMode, Session

    middle = text.index("\n", len(text) // 2) + 1
    change = TextChange(middle, middle, EDIT_LINE)
    times = {"pie": [], "reencode_from_edit": [], "full_encode": []}
    for _ in range(REPEATS):
        for mode, key in ((EditMode.PIE, "pie"), (EditMode.REENCODE, "reencode_from_edit")):
            document = Document(vocab, text)
            session = Session(runner, document.tokens, mode)
            edit = document.apply(change)
            times[key].append(_timed(lambda: session.apply(edit)))
        times["full_encode"].append(_timed(lambda: Session(runner, document.tokens, EditMode.REENCODE)))
    medians = {key: round(statistics.median(values), 2) for key, values in times.items()}
    return {"tokens": len(document.tokens), "edit_tokens": edit.delta,
            **{f"{key}_ms": value for key, value in medians.items()},
            "speedup_vs_full_encode": round(medians["full_encode"] / medians["pie"], 1),
            "speedup_vs_reencode_from_edit": round(medians["reencode_from_edit"] / medians["pie"], 1)}


def next_line_cases(text: str, count: int) -> list[tuple[str, int, str]]:
    """(document without the target line, cursor after its indentation, the removed line) at ``count``
    evenly spaced indented code lines (a fixed rule: no comments, docstrings or blank lines)."""
    lines = text.split("\n")
    eligible = [i for i, line in enumerate(lines) if line.startswith("    ") and line.strip()
                and not line.strip().startswith(("#", '"', "'")) and len(line.strip()) > 8]
    chosen = eligible[:: max(1, len(eligible) // count)][:count]
    cases = []
    for index in chosen:
        line = lines[index]
        indent = line[: len(line) - len(line.lstrip())]
        before = "\n".join(lines[:index]) + "\n" + indent
        cases.append((before + "\n" + "\n".join(lines[index + 1:]), len(before), line.strip()))
    return cases


# (name, speculation on, drafters) compared on the same cases
SPECULATION_MODES = (("plain", False, ()), ("copyspec", True, ("copy",)), ("superposed", True, ("superposed",)),
                     ("all", True, ("copy", "superposed")))


def measure_speculation(loaded, text: str, cases: int, k: int) -> list[dict]:
    """One row per mode: wall time, tokens/s, forwards and acceptance over the same next-line cases."""
    from completion.engine import Engine

    engines = {}
    for name, speculation, drafters in SPECULATION_MODES:
        engines[name] = Engine(Settings(suggestions=k, max_tokens=32, speculation=speculation), loaded=loaded)
        engines[name].drafters = set(drafters)
    totals = {name: 0.0 for name in engines}
    firsts: dict[str, list[str]] = {name: [] for name in engines}
    samples = next_line_cases(text, cases)
    for number, (document, cursor, _) in enumerate(samples):
        for name, engine in engines.items():
            uri = f"file:///bench/{number}.py"
            engine.open(uri, document)
            engine.complete(uri, cursor, max_tokens=1)  # encode the file first: only decoding is timed
            engine.documents[uri].shown = None
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


def _header(loaded) -> dict:
    return {"model": loaded.name, "device": str(loaded.device), "dtype": str(loaded.dtype).removeprefix("torch."),
            "machine": f"{platform.machine()} {platform.processor() or ''} {torch.get_num_threads()} threads",
            "date": time.strftime("%Y-%m-%d"), "command": "kvcomplete " + " ".join(sys.argv[1:])}


def main(settings: Settings, suite: str, quick: bool = False, as_json: bool = False) -> int:
    """Run ``suite`` ("edits" or "speculation") on the model ``settings`` name; print Markdown or JSON."""
    from completion.models import load
    from completion.runner import ModelRunner
    from completion.vocab import Vocabulary

    loaded = load(settings)
    vocab = Vocabulary(loaded.tokenizer)
    report = {"suite": suite, **_header(loaded)}
    if suite == "edits":
        runner = ModelRunner(loaded)
        report["rows"] = [measure_edit(runner, vocab, cut_to_tokens(stdlib_source(size, vocab), size, vocab))
                          for size in (QUICK_SIZES if quick else SIZES)]
    else:
        text = cut_to_tokens(stdlib_source(2048, vocab), 2048, vocab)
        cases = 4 if quick else 12
        report["rows"] = [row for k in (1, 4) for row in measure_speculation(loaded, text, cases, k)]
    columns = list(report["rows"][0])
    if as_json:
        print(json.dumps(report, indent=2))
        return 0
    print(" ".join(f"{key}: {report[key]}" for key in ("model", "device", "dtype", "machine", "date", "command")))
    print("| " + " | ".join(columns) + " |\n|" + "---|" * len(columns))
    for row in report["rows"]:
        print("| " + " | ".join(str(row[column]) for column in columns) + " |")
    return 0
