"""The Speculator: which drafters a request gets, and the sources they share across requests."""

from __future__ import annotations

import pytest
import torch

from kvcomplete.completion.drafts.speculation import SUPERPOSED_LENGTH
from kvcomplete.completion.drafts.speculator import Speculator


def embed(tokens: list[int]) -> torch.Tensor:
    return torch.zeros(len(tokens), 4)


@pytest.fixture
def speculator() -> Speculator:
    speculator = Speculator()
    speculator.budget.record_forward(1, 10.0)  # a one-token forward: 10 ms; a 4-wide one: 12 ms
    speculator.budget.record_forward(4, 12.0)
    return speculator


def test_a_superposed_pass_runs_when_it_ends_before_the_deadline(speculator):
    first_and_pass_ms = 10.0 * SUPERPOSED_LENGTH  # the decoding's first forward, then the pass's
    assert speculator.drafting("a", 3, None, embed, ms_left=first_and_pass_ms + 1).superposed is not None
    assert speculator.drafting("a", 3, None, embed, ms_left=None).superposed is not None  # no deadline


def test_a_superposed_pass_that_would_end_past_the_deadline_is_skipped(speculator):
    drafting = speculator.drafting("a", 3, None, embed, ms_left=10.0 * SUPERPOSED_LENGTH - 1)
    assert drafting.superposed is None and drafting.copyspec is speculator.copyspec  # copies still draft


def test_one_suggestion_or_no_superposed_drafter_means_no_pass(speculator):
    assert speculator.drafting("a", 1, None, embed).superposed is None
    assert Speculator(drafters=["copy"]).drafting("a", 3, None, embed).superposed is None
    assert Speculator(drafters=[]).drafting("a", 3, None, embed) is None


def test_sources_are_indexed_and_forgotten(speculator):
    speculator.set_source("file:///a.py", [5, 6, 7, 8, 9, 10, 11])
    drafts = speculator.copyspec.propose([1, 5, 6, 7], 1)
    assert drafts and tuple(drafts[0].tokens[:2]) == (8, 9)  # what followed 5 6 7 there
    speculator.set_source("file:///a.py", None)
    assert speculator.copyspec.propose([1, 5, 6, 7], 1) == []


def test_unknown_drafters_are_refused():
    with pytest.raises(ValueError, match="unknown drafters"):
        Speculator(drafters=["oracle"])
