"""Cache updates are found by diffing the cached tokens with the wanted ones: the edits must reproduce the
wanted tokens exactly, and the common cases must be the cheap edits PIE wants."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kvcomplete.completion.cache.token_diff import MERGE_GAP, diff_tokens
from kvcomplete.completion.model.spec import FimTokens
from kvcomplete.completion.prompt.layout import Layout, fim_segments, flatten

FIM = FimTokens(prefix=1, suffix=2, middle=3)
tokens = st.lists(st.integers(10, 14), max_size=40)


def applied(old, edits):
    edited = list(old)
    for edit in edits:
        assert 0 <= edit.start <= edit.start + edit.deleted <= len(edited)
        edited[edit.start: edit.start + edit.deleted] = edit.inserted
    return edited


@settings(max_examples=300, deadline=None)
@given(tokens, tokens)
def test_edits_turn_one_sequence_into_the_other(old, new):
    assert applied(old, diff_tokens(old, new)) == new


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 10_000), min_size=100, max_size=300, unique=True), st.data())
def test_separate_edits_far_apart_stay_separate_and_small(old, data):
    """Two edits separated by more than MERGE_GAP equal tokens: two edits, each only its own tokens."""
    first = data.draw(st.integers(0, len(old) // 2 - MERGE_GAP - 2))
    second = data.draw(st.integers(first + MERGE_GAP + 2, len(old) - 1))
    new = old[:first] + [-1] + old[first + 1: second] + [-2, -3] + old[second + 1:]
    edits = diff_tokens(old, new)
    assert applied(old, edits) == new
    assert [(e.deleted, len(e.inserted)) for e in edits] == [(1, 1), (1, 2)]


def test_a_slid_window_drops_at_one_end_and_appends_at_the_other():
    document = list(range(1000, 1600))
    old, new = document[0:400], document[100:500]
    edits = diff_tokens(old, new)
    assert [(e.start, e.deleted, len(e.inserted)) for e in edits] == [(0, 100, 0), (300, 0, 100)]


def test_typing_at_the_cursor_is_an_append_in_spm_and_moves_the_suffix_in_psm():
    before, after = [10, 11, 12], [13, 14, 13, 14]

    def typed(layout):
        old = flatten(fim_segments(layout, FIM, before, after))
        return diff_tokens(old, flatten(fim_segments(layout, FIM, before + [11], after)))

    assert [(e.start, e.deleted, e.inserted) for e in typed(Layout.SPM)] == [(2 + 4 + 1 + 3, 0, (11,))]
    psm = typed(Layout.PSM)
    assert [(e.start, e.deleted, e.inserted) for e in psm] == [(1 + 3, 0, (11,))]  # the suffix moves behind it


def test_unchanged_prompt_needs_no_edit():
    prompt = flatten(fim_segments(Layout.PSM, FIM, [10, 11], [12]))
    assert diff_tokens(prompt, list(prompt)) == []
