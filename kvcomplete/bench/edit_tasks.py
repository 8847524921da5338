"""The PIE paper's three editing tasks, built from a real file: insertion, deletion, multi-place editing.

As in the paper, the text *after* the edit is always the real file, so its real next line is the ground
truth and the prediction from a full re-encode is the quality reference:
- insertion: the document first lacks a block of the context's lines; the edit inserts it back;
- deletion: the document first holds an extra block (the file's real lines from just before the context);
  the edit deletes it;
- multi-place: three edits in one change notification: insert, delete, insert, at different places.
A sample's document is the file up to a target line, cut to about ``context_tokens`` tokens before it, with
the cursor after the target's indentation: the model predicts the rest of that line.

Fixed rules: the target is the middle one of the module's code lines (``is_code_line``) that have enough
text before them; edits go at fixed fractions of the context's lines (moved down past blank lines).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from itertools import accumulate

from kvcomplete.bench.sources import indentation, is_code_line
from kvcomplete.completion.text.mirror import TextChange
from kvcomplete.completion.text.vocab import Vocabulary

BLOCK_LINES = 3  # lines inserted or deleted by one edit
PLACES = {  # per task: (fraction of the context's lines, kind of edit), top to bottom
    "insertion": ((0.5, "insert"),),
    "deletion": ((0.5, "delete"),),
    "multi": ((0.25, "insert"), (0.5, "delete"), (0.75, "insert")),
}
TASKS = tuple(PLACES)


@dataclass(frozen=True, slots=True)
class EditSample:
    task: str
    module: str
    before: str  # the document before the edit; the cursor is at its end
    changes: tuple[TextChange, ...]  # the edit as an editor sends it, applied in order
    after: str  # the document after the edit: the real file up to the cursor
    target: str  # the real rest of the line at the cursor


def _offset(lines: list[str], line: int) -> int:
    return sum(len(text) + 1 for text in lines[:line])


def _places(context: list[str], task: str) -> list[tuple[int, str]] | None:
    """Context line indices of the task's edits, or None when the context is too short for them apart."""
    places, free_from = [], 0
    for fraction, kind in PLACES[task]:
        line = max(free_from, round(fraction * len(context)))
        while line < len(context) and not context[line].strip():
            line += 1
        end = line + (BLOCK_LINES if kind == "insert" else 0)
        if end > len(context) - 1:  # the line right before the cursor is never edited
            return None
        free_from = end + 1  # at least one untouched line between two edits
        places.append((line, kind))
    return places


def build_sample(task: str, module: str, lines: list[str], first: int, target: int) -> EditSample | None:
    """The ``task`` sample whose document is ``lines[first:target]`` then the target's indentation."""
    if first < BLOCK_LINES:
        return None
    context = lines[first:target]
    places = _places(context, task)
    if places is None:
        return None
    extra = lines[first - BLOCK_LINES: first]
    before: list[str] = []
    edits: list[tuple[int, str, str]] = []  # (line in ``before``, kind, text inserted or deleted there)
    taken = 0
    for line, kind in places:
        before += context[taken:line]
        if kind == "insert":  # ``before`` lacks the block; the edit inserts it
            block, taken = context[line: line + BLOCK_LINES], line + BLOCK_LINES
            edits.append((len(before), "insert", "\n".join(block) + "\n"))
        else:  # ``before`` holds the extra block; the edit deletes it
            taken = line
            edits.append((len(before), "delete", "\n".join(extra) + "\n"))
            before += extra
    before += context[taken:]
    cursor_line = indentation(lines[target])
    changes = []
    for line, kind, text in reversed(edits):  # bottom first: each change's offsets stay those of ``before``
        at = _offset(before, line)
        changes.append(TextChange(at, at, text) if kind == "insert" else TextChange(at, at + len(text), ""))
    return EditSample(task=task, module=module, before="\n".join(before) + "\n" + cursor_line,
                      changes=tuple(changes), after="\n".join(context) + "\n" + cursor_line,
                      target=lines[target].strip())


def context_start(tokens_before: list[int], target: int, context_tokens: int) -> int:
    """The last line from which the text up to ``target`` holds at least ``context_tokens`` tokens (-1: none).

    tokens_before[i]: tokens of lines [0, i), cumulative.
    """
    return bisect.bisect_right(tokens_before, tokens_before[target] - context_tokens) - 1


def module_samples(module: str, text: str, vocab: Vocabulary, context_tokens: int) -> list[EditSample]:
    """One sample per task, all with the same target line (so tasks differ only by their edits)."""
    lines = text.split("\n")
    tokens_before = [0, *accumulate(len(vocab.encode(line + "\n")) for line in lines)]
    eligible = [index for index, line in enumerate(lines) if is_code_line(line)
                and context_start(tokens_before, index, context_tokens) >= BLOCK_LINES]
    if not eligible:
        return []
    target = eligible[len(eligible) // 2]
    first = context_start(tokens_before, target, context_tokens)
    samples = (build_sample(task, module, lines, first, target) for task in TASKS)
    return [sample for sample in samples if sample is not None]
