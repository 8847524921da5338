"""NGramModel: interpolated estimates on a toy corpus; incremental replacement equals a fresh build."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvcomplete.completion.drafts.ngram import FLOOR, PAPER_WEIGHTS, NGramModel

TOY = [1, 2, 3, 1, 2, 4, 1, 2, 3]


def test_bigram_probabilities():
    model = NGramModel(max_order=2)
    model.set_source("a", TOY)
    assert model.logprob([2], 3) == pytest.approx(math.log(2 / 3))
    assert model.logprob([9, 2], 4) == pytest.approx(math.log(1 / 3))  # only the last token counts
    assert model.logprob([1], 2) == pytest.approx(0.0)
    # the final 3 has no next token: after 3 comes 1, every time something comes
    assert model.logprob([3], 1) == pytest.approx(0.0)


def test_unseen_is_floored():
    model = NGramModel()
    model.set_source("a", TOY)
    assert model.logprob([2], 9) == pytest.approx(math.log(FLOOR))
    assert model.logprob([7], 3) == pytest.approx(math.log(FLOOR))
    assert model.logprob([], 3) == pytest.approx(math.log(FLOOR))


def test_orders_are_interpolated_with_the_paper_weights():
    model = NGramModel(max_order=3)
    model.set_source("a", TOY)
    w2, w3 = PAPER_WEIGHTS[2] / (PAPER_WEIGHTS[2] + PAPER_WEIGHTS[3]), PAPER_WEIGHTS[3] / (
        PAPER_WEIGHTS[2] + PAPER_WEIGHTS[3])
    assert model.logprob([1, 2], 3) == pytest.approx(math.log(w2 * 2 / 3 + w3 * 2 / 3))
    assert model.logprob([5, 2], 3) == pytest.approx(math.log(w2 * 2 / 3))  # trigram context unseen
    assert sum(NGramModel().weights.values()) == pytest.approx(1.0)


def test_counts_add_over_sources_and_leave_with_them():
    model = NGramModel(max_order=2)
    model.set_source("a", TOY)
    model.set_source("b", [2, 4, 2, 4])
    assert model.logprob([2], 4) == pytest.approx(math.log(3 / 5))
    model.remove_source("b")
    fresh = NGramModel(max_order=2)
    fresh.set_source("a", TOY)
    assert model == fresh


documents = st.lists(st.integers(0, 5), max_size=30)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), documents, st.booleans()), max_size=12))
def test_incremental_replace_equals_fresh_build(operations):
    model, final = NGramModel(), {}
    for key, tokens, remove in operations:
        if remove:
            model.remove_source(key)
            final.pop(key, None)
        else:
            model.set_source(key, tokens)
            final[key] = tokens
    fresh = NGramModel()
    for key, tokens in final.items():
        fresh.set_source(key, tokens)
    assert model == fresh


@settings(max_examples=100, deadline=None)
@given(documents, st.integers(0, 30), st.integers(0, 5), documents)
def test_an_edit_equals_a_fresh_build(tokens, at, deleted, inserted):
    edited = tokens[:at] + inserted + tokens[at + deleted:]
    model = NGramModel()
    model.set_source("a", tokens)
    model.set_source("a", edited)
    fresh = NGramModel()
    fresh.set_source("a", edited)
    assert model == fresh


def test_an_edit_recounts_far_less_than_a_fresh_count_of_the_document(monkeypatch):
    """Re-setting an edited document recounts only the n-grams around the edit: the tokens within max_order - 1
    of the changed span, a small part of what counting the document anew takes."""
    rng = random.Random(0)
    # Zipf-like token stream: like code, many repeats and a long tail.
    files = [[int(rng.paretovariate(1.0)) % 20000 for _ in range(4000)] for _ in range(20)]
    model = NGramModel()
    for i, tokens in enumerate(files):
        model.set_source(str(i), tokens)
    edited = files[0][:2000] + [7, 8, 9] + files[0][2001:]
    recounted: list[int] = []  # the tokens of each window that set_source counts (or uncounts) n-grams in
    count = NGramModel._count

    def counting(self: NGramModel, window: list[int], sign: int) -> None:
        recounted.append(len(window))
        count(self, window, sign)

    monkeypatch.setattr(NGramModel, "_count", counting)
    for version in (edited, files[0], edited):
        recounted.clear()
        NGramModel().set_source("0", version)
        fresh = sum(recounted)
        recounted.clear()
        model.set_source("0", version)
        assert sum(recounted) < fresh / 4
        assert max(recounted) <= 3 + 2 * (model.max_order - 1)  # the changed tokens and the n-grams overlapping them
