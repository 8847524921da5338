"""`kvcomplete bench edits|speculation`: measured side by side, in one run, on real code.

Files are real Python source (the running interpreter's standard library, chosen by a fixed rule).
- edits: one line inserted in the middle of a file cut to ~1k / ~4k tokens; PIE vs re-encoding from the
  edit vs a full encode, interleaved, median of repeats.
- speculation: next-line completions at line starts inside functions (the line removed, the cursor after
  its indentation); speculative vs plain greedy on the same cache state, k = 1 and k = 3: wall time,
  forwards, draft acceptance, and whether suggestion #1 was identical (it must be).
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

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
    return {"tokens": len(document.tokens), "edit_tokens": edit.delta, "ms": medians,
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


def measure_speculation(loaded, text: str, cases: int, k: int) -> dict:
    from completion.config import Settings
    from completion.engine import Engine

    engines = {spec: Engine(Settings(suggestions=k, max_tokens=32, speculation=spec), loaded=loaded)
               for spec in (False, True)}
    totals = {spec: {"ms": 0.0, "forwards": 0} for spec in engines}
    identical = 0
    samples = next_line_cases(text, cases)
    for number, (document, cursor, _) in enumerate(samples):
        results = {}
        for spec, engine in engines.items():
            uri = f"file:///bench/{number}.py"
            engine.open(uri, document)
            engine.complete(uri, cursor, max_tokens=1)  # encode the file first: only decoding is timed
            engine.documents[uri].shown = None
            forwards = engine.stats()["forwards"]
            started = time.perf_counter()
            results[spec] = engine.complete(uri, cursor).suggestions
            totals[spec]["ms"] += (time.perf_counter() - started) * 1000
            totals[spec]["forwards"] += engine.stats()["forwards"] - forwards
            engine.close(uri)
        identical += [s.text for s in results[False][:1]] == [s.text for s in results[True][:1]]
    stats = engines[True].stats()
    return {"k": k, "cases": len(samples), "identical_first": identical,
            "plain_ms": round(totals[False]["ms"], 1), "speculative_ms": round(totals[True]["ms"], 1),
            "speedup": round(totals[False]["ms"] / totals[True]["ms"], 2),
            "plain_forwards": totals[False]["forwards"], "speculative_forwards": totals[True]["forwards"],
            "draft_tokens_proposed": stats["draftTokensProposed"],
            "draft_tokens_accepted": stats["draftTokensAccepted"]}


def _header(loaded) -> dict:
    return {"model": loaded.name, "device": str(loaded.device), "dtype": str(loaded.dtype).removeprefix("torch."),
            "machine": f"{platform.machine()} {platform.processor() or ''} {torch.get_num_threads()} threads",
            "date": time.strftime("%Y-%m-%d"), "command": "kvcomplete " + " ".join(sys.argv[1:])}


def main(args) -> int:
    from completion.config import Settings
    from completion.models import load
    from completion.runner import ModelRunner
    from completion.vocab import Vocabulary

    settings = Settings(model=args.model, device=args.device, dtype=args.dtype, allow_pickle=args.allow_pickle)
    loaded = load(settings)
    vocab = Vocabulary(loaded.tokenizer)
    report = {"suite": args.suite, **_header(loaded)}
    if args.suite == "edits":
        runner = ModelRunner(loaded)
        report["rows"] = [measure_edit(runner, vocab, cut_to_tokens(stdlib_source(size, vocab), size, vocab))
                          for size in (QUICK_SIZES if args.quick else SIZES)]
        columns = ["tokens", "ms", "speedup_vs_full_encode", "speedup_vs_reencode_from_edit"]
    else:
        text = cut_to_tokens(stdlib_source(2048, vocab), 2048, vocab)
        cases = 4 if args.quick else 12
        report["rows"] = [measure_speculation(loaded, text, cases, k) for k in (1, 3)]
        columns = list(report["rows"][0])
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(" ".join(f"{key}: {report[key]}" for key in ("model", "device", "dtype", "machine", "date", "command")))
    print("| " + " | ".join(columns) + " |\n|" + "---|" * len(columns))
    for row in report["rows"]:
        print("| " + " | ".join(str(row[column]) for column in columns) + " |")
    return 0
