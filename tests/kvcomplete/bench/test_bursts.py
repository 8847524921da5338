"""The bursts benchmark in small: real servers on the tiny model, a burst of edits each, one answer timed each."""

from __future__ import annotations

import pytest

from kvcomplete.bench import bursts
from kvcomplete.completion.config import Settings

pytestmark = pytest.mark.e2e  # a server per budget


def test_each_budget_times_the_first_answer_of_every_sample(tiny_model_dir, vocab):
    result = bursts.run(Settings(model=str(tiny_model_dir), device="cpu", max_tokens=4), vocab, [0, 50], 3)
    assert result["samples"] == 3 and set(result["budgets"]) == {0, 50}
    for figures in result["budgets"].values():
        assert figures["n"] == 3 and 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"]


def test_the_samples_are_real_edits_of_held_out_modules(vocab):
    cases = bursts.samples(vocab, 4)
    assert len(cases) == 4 and all(case.changes for case in cases)
    assert {case.task for case in cases} <= {"insertion", "deletion", "multi"}
