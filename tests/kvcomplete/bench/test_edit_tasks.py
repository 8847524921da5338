"""The PIE paper's editing tasks built from real modules: the edit always rebuilds the real file."""

from __future__ import annotations

import pytest

from kvcomplete.bench.edit_tasks import BLOCK_LINES, TASKS, build_sample, module_samples
from kvcomplete.bench.sources import held_out_modules, read_module


def apply_changes(text: str, changes) -> str:
    for change in changes:  # in order, as an editor's change notification
        text = text[: change.start] + change.text + text[change.end:]
    return text


@pytest.fixture(scope="module")
def modules():
    return [(path.name, read_module(path)) for path in held_out_modules(7, min_chars=20_000)[:6]]


def test_every_task_rebuilds_the_real_file_up_to_the_real_next_line(modules, vocab):
    complete = 0
    for name, text in modules:
        samples = module_samples(name, text, vocab, context_tokens=256)
        complete += len(samples) == len(TASKS)
        for sample in samples:
            assert apply_changes(sample.before, sample.changes) == sample.after
            assert sample.before != sample.after
            context = sample.after[: sample.after.rindex("\n") + 1]
            indent = sample.after[len(context):]
            assert context + indent + sample.target in text  # the real lines, then the real next line
            assert sample.target and not sample.target.startswith("#")
            assert len(vocab.encode(context)) >= 200
    assert complete >= 4


def test_tasks_insert_delete_and_edit_in_several_places(modules, vocab):
    name, text = modules[1]
    by_task = {sample.task: sample for sample in module_samples(name, text, vocab, context_tokens=256)}
    insertion, deletion, multi = by_task["insertion"], by_task["deletion"], by_task["multi"]
    assert [c.start == c.end and c.text.count("\n") == BLOCK_LINES for c in insertion.changes] == [True]
    assert [c.start < c.end and not c.text for c in deletion.changes] == [True]
    assert len(multi.changes) == 3
    assert [c.start for c in multi.changes] == sorted((c.start for c in multi.changes), reverse=True)
    assert len({s.target for s in by_task.values()}) == 1  # the same target line for every task


def test_a_context_too_short_for_its_edits_gives_no_sample():
    lines = [f"    x{i} = {i}" for i in range(12)]
    assert build_sample("multi", "m.py", lines, first=4, target=10) is None  # 6 lines: no room for 3 edits
    assert build_sample("insertion", "m.py", lines, first=1, target=11) is None  # no lines before the context
    assert build_sample("insertion", "m.py", lines, first=3, target=11) is not None
