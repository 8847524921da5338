"""Prompt layouts: segment diffs and the choice of layout."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from completion.layout import FimTokens, Layout, choose_layout, fim_segments, flatten, segment_edits

FIM = FimTokens(prefix=1, suffix=2, middle=3)
tokens = st.lists(st.integers(10, 14), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([Layout.PSM, Layout.SPM]), tokens, tokens, tokens, tokens)
def test_segment_edits_turn_one_prompt_into_the_other(layout, before, after, new_before, new_after):
    old, new = fim_segments(layout, FIM, before, after), fim_segments(layout, FIM, new_before, new_after)
    edited = flatten(old)
    for edit in segment_edits(old, new):
        assert 0 <= edit.start <= edit.start + edit.deleted <= len(edited)
        edited[edit.start: edit.start + edit.deleted] = edit.inserted
    assert edited == flatten(new)


def test_typing_at_the_cursor_is_an_append_in_spm_and_moves_the_suffix_in_psm():
    before, after = [10, 11, 12], [13, 14, 13, 14]

    def typed(layout):
        return segment_edits(fim_segments(layout, FIM, before, after), fim_segments(layout, FIM, before + [11], after))

    spm = typed(Layout.SPM)
    assert [(e.start, e.deleted, e.inserted) for e in spm] == [(2 + 4 + 1 + 3, 0, (11,))]  # at the very end
    psm = typed(Layout.PSM)
    assert [(e.start, e.deleted, e.inserted) for e in psm] == [(1 + 3, 0, (11,))]  # the suffix moves behind it


def test_unchanged_prompt_needs_no_edit():
    segments = fim_segments(Layout.PSM, FIM, [10, 11], [12])
    assert segment_edits(segments, segments) == []


def test_layout_choice():
    assert choose_layout("auto", None, "llama") is Layout.LEFT_TO_RIGHT
    assert choose_layout("auto", FIM, "starcoder2") is Layout.SPM
    assert choose_layout("auto", FIM, "qwen2") is Layout.PSM
    assert choose_layout("ltr", FIM, "qwen2") is Layout.LEFT_TO_RIGHT
    assert choose_layout("psm", FIM, "starcoder2") is Layout.PSM
    with pytest.raises(ValueError, match="FIM tokens"):
        choose_layout("spm", None, "llama")
