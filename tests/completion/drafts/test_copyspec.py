"""CopySpec: matches in the current document, other documents and past suggestions; distinct, ranked drafts;
adaptive copy length; never the context's own position; real code: drafts at most cursors, from the matches only."""

from __future__ import annotations

import statistics
import sysconfig
from pathlib import Path

import pytest

from kvcomplete.completion.drafts import copyspec
from kvcomplete.completion.drafts.copyspec import CopySpec

A, B, C = 101, 102, 103  # the γ-gram the contexts below end with


def tokens(drafts):
    return [d.tokens for d in drafts]


def test_copies_what_followed_in_the_same_document():
    spec = CopySpec(gamma=3)
    document = [1, A, B, C, 7, 8, 9, 10, 11, 12, 13, 14, 15, 2, 3, A, B, C]
    spec.set_source("doc", document)
    drafts = spec.propose(document, 4, key="doc")
    assert tokens(drafts) == [tuple(document[4: 4 + spec.copy_length])]
    assert drafts[0].source == "copy"


def test_copies_from_other_documents_and_past_suggestions():
    spec = CopySpec(gamma=3, max_copy=4)
    spec.set_source("doc", [5, 6, A, B, C])
    spec.set_source("other", [A, B, C, 20, 21, 22, 23, 24])
    spec.add_suggestion([B, C, A, B, C, 30, 31, 32, 33])
    found = tokens(spec.propose([5, 6, A, B, C], 5, key="doc"))
    length = spec.copy_length
    assert set(found) == {(20, 21, 22, 23)[:length], (30, 31, 32, 33)[:length]}


def test_suggestion_history_is_bounded():
    spec = CopySpec(history=2)
    for first in (40, 50, 60):
        spec.add_suggestion([A, B, C, first, first + 1])
    assert {d.tokens[0] for d in spec.propose([A, B, C], 5)} == {50, 60}


def test_drafts_are_distinct_and_prefixes_are_merged():
    spec = CopySpec(gamma=3, max_copy=8)
    spec.set_source("one", [A, B, C, 1, 2, 3, 4, 0, A, B, C, 1, 2, 3, 4, 0, A, B, C, 5, 6, 7, 8])
    spec.set_source("two", [A, B, C, 1, 2])  # a prefix of (1, 2, 3, 4), cut by the end of the document
    drafts = spec.propose([9, A, B, C], 5)
    assert sorted(tokens(drafts)) == [(1, 2, 3, 4), (5, 6, 7, 8)]


def test_longer_matched_suffix_ranks_first_then_nearer():
    spec = CopySpec(gamma=3, max_copy=2)
    document = [A, B, C, 90, 91, 3, A, B, C, 70, 71, 0, 2, A, B, C, 80, 81, 0, 1, 2, 3, A, B, C]
    spec.set_source("doc", document)
    spec.set_source("far", [9, 9, A, B, C, 60, 61])
    # 4 tokens matched; then 3 matched in this document, nearer first; then 3 matched elsewhere
    drafts = spec.propose(document, 5, key="doc")
    assert tokens(drafts) == [(70, 71), (80, 81), (90, 91), (60, 61)]
    assert [d.score for d in drafts] == sorted((d.score for d in drafts), reverse=True)


def test_more_frequent_continuation_breaks_ties():
    spec = CopySpec(gamma=3, max_copy=2)
    spec.set_source("x", [A, B, C, 1, 1])
    spec.set_source("y", [A, B, C, 2, 2, 0, A, B, C, 2, 2])
    assert tokens(spec.propose([A, B, C], 2)) == [(2, 2), (1, 1)]


def test_copy_length_adapts_to_acceptance():
    spec = CopySpec(gamma=3, max_copy=12)
    spec.set_source("x", [A, B, C] + list(range(20)))
    for _ in range(20):
        spec.observe(spec.copy_length, spec.copy_length)
    assert spec.copy_length == 12 and len(spec.propose([A, B, C], 1)[0].tokens) == 12
    for _ in range(20):
        spec.observe(spec.copy_length, 0)
    assert spec.copy_length == 2 and len(spec.propose([A, B, C], 1)[0].tokens) == 2
    for _ in range(20):
        spec.observe(10, 4)
    assert spec.copy_length == 5  # one past what is usually accepted


def test_never_proposes_the_context_itself():
    spec = CopySpec(gamma=3)
    document = [1, 2, A, B, C, 40, 41, 42]
    spec.set_source("doc", document)
    assert spec.propose(document[:5], 3, key="doc") == []
    # the same γ-gram ending at the cursor's index, but different tokens before it: a real match
    assert tokens(spec.propose([8, 9, A, B, C], 3, key="doc")) == [(40, 41, 42)]


def test_text_after_the_cursor_may_be_copied():
    spec = CopySpec(gamma=3)
    document = [A, B, C, 1, 2, 3, 0, A, B, C, 7, 8, 9]
    spec.set_source("doc", document)
    assert tokens(spec.propose(document[:3], 3, key="doc")) == [(7, 8, 9)]


def test_short_or_empty_requests():
    spec = CopySpec(gamma=3)
    spec.set_source("doc", [A, B, C, 1])
    assert spec.propose([B, C], 3, key="doc") == []
    assert spec.propose([A, B, C], 0) == []
    with pytest.raises(ValueError):
        CopySpec(gamma=0)


def stdlib_tokens(tokenizer, count: int) -> list[int]:
    """Real code: the standard library's modules in name order, tokenized, until ``count`` tokens."""
    out: list[int] = []
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py")):
        out += tokenizer(path.read_text(encoding="utf-8", errors="replace"))["input_ids"]
        if len(out) >= count:
            return out[:count]
    raise AssertionError("not enough standard library source")


def test_drafts_at_most_cursors_of_real_code_looking_at_the_matches_only(tokenizer, monkeypatch):
    """Drafts at most cursors of real code, among 20 other documents and 64 past suggestions. A proposal looks
    at the places where the context's last γ tokens occur (``bytes.find`` finds them, at C speed), not at each
    position as a scan would: a handful per proposal. (Its speed is a benchmark's: ``kvcomplete bench
    speculation`` times drafting with CopySpec.)"""
    code = stdlib_tokens(tokenizer, 10_000 + 20 * 4_000)
    spec = CopySpec()
    spec.set_source("current", code[:10_000])
    for i in range(20):
        spec.set_source(f"other{i}", code[10_000 + 4_000 * i: 10_000 + 4_000 * (i + 1)])
    for i in range(64):
        spec.add_suggestion(code[500 * i: 500 * i + 24])
    looked_at = []  # one entry per occurrence a proposal measures the matched suffix of
    suffix_length = copyspec._suffix_length
    monkeypatch.setattr(copyspec, "_suffix_length", lambda *args: looked_at.append(1) or suffix_length(*args))
    cursors, drafted, per_proposal = range(200, 10_000, 50), 0, []
    for cursor in cursors:
        before = len(looked_at)
        drafted += bool(spec.propose(code[:cursor], 4, key="current"))
        per_proposal.append(len(looked_at) - before)
    assert drafted > len(cursors) // 2
    # a scan of the document before the cursor alone visits `cursor` positions
    assert statistics.median(per_proposal) * 100 < statistics.median(cursors)
