"""`kvcomplete bench edits`: the cost of following an edit, PIE vs re-encoding, measured side by side.

Files are real Python source (the running interpreter's standard library), cut to the sizes asked for; the
edit inserts one line in the middle of the file. Each mode is timed on the same edit, interleaved, and the
median of the repeats is reported with the machine, model and command.
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


def main(args) -> int:
    from completion.config import Settings
    from completion.models import load
    from completion.runner import ModelRunner
    from completion.vocab import Vocabulary

    settings = Settings(model=args.model, device=args.device, dtype=args.dtype, allow_pickle=args.allow_pickle)
    loaded = load(settings)
    runner, vocab = ModelRunner(loaded), Vocabulary(loaded.tokenizer)
    rows = []
    for size in QUICK_SIZES if args.quick else SIZES:
        text = cut_to_tokens(stdlib_source(size, vocab), size, vocab)
        rows.append(measure_edit(runner, vocab, text))
    report = {"suite": "edits", "model": loaded.name, "device": str(loaded.device), "dtype": str(loaded.dtype),
              "machine": f"{platform.machine()} {platform.processor() or ''} {torch.get_num_threads()} threads",
              "date": time.strftime("%Y-%m-%d"), "command": "kvcomplete " + " ".join(sys.argv[1:]), "rows": rows}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{report['model']} on {report['device']} ({report['dtype']}), {report['machine']}, {report['date']}")
    print("| tokens | PIE ms | re-encode from edit ms | full encode ms | PIE speedup vs full | vs from-edit |")
    print("|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        ms = row["ms"]
        print(f"| {row['tokens']} | {ms['pie']} | {ms['reencode_from_edit']} | {ms['full_encode']} | "
              f"{row['speedup_vs_full_encode']}x | {row['speedup_vs_reencode_from_edit']}x |")
    return 0
