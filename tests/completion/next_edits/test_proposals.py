"""The engine's next edits: background steps after an edit announce proposals that hold at their places; a
request answers the same; every change starts over; bad requests change nothing."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from kvcomplete.completion import scheduler
from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine, UnknownDocument
from kvcomplete.completion.next_edits.candidates import DEFINITION, RENAME, WORD
from kvcomplete.completion.next_edits.proposals import (
    BEST_GAP,
    DEFINITION_ALLOWANCE,
    DELETION_MARGIN,
    INSERTION_ALLOWANCE,
    NARROW_GAP,
    RENAME_ALLOWANCE,
    RENAME_SURE,
    SET_ANCHORS,
    NextEdits,
    Proposal,
    _Job,
)
from kvcomplete.completion.scheduler import Work
from kvcomplete.completion.text.mirror import TextChange

URI = "file:///names.py"
SOURCE = "def load(path):\n    data = read(path)\n    check(path)\n    return data, path\n\n\nprint(load('x'))\n"
RENAME_AT = SOURCE.index("path")  # the parameter


@pytest.fixture(scope="module")
def engine(tiny_model_dir):
    # A tiny random model's scores mean nothing: every candidate is kept, so the mechanics show.
    return Engine(Settings(model=str(tiny_model_dir), device="cpu", max_tokens=4, next_edits_threshold=-math.inf))


@pytest.fixture
def announced(engine):
    """The proposals ``engine`` announces, as (uri, text, proposals); the document opened afresh."""
    seen = []
    engine.on_next_edits_ready = lambda *ready: seen.append(ready)
    engine.open(URI, SOURCE, "python")
    yield seen
    engine.reconfigure(engine.settings.replace(next_edits=True, max_next_edits=10))


def rename(engine) -> None:
    engine.change(URI, [TextChange(RENAME_AT, RENAME_AT + 4, ""), TextChange(RENAME_AT, RENAME_AT, "file")])


def test_after_an_edit_background_steps_announce_proposals_that_hold_at_their_places(engine, announced, settle):
    rename(engine)
    settle(engine)
    assert announced, "no proposals announced"
    uri, text, proposals = announced[-1]
    assert uri == URI and text == engine.text(URI)
    assert len(proposals) == 3  # the other uses of path
    assert [p.score for p in proposals] == sorted((p.score for p in proposals), reverse=True)
    for proposal in proposals:
        assert text[proposal.start: proposal.end] == proposal.old == "path" and proposal.new == "file"
    assert engine.stats()["nextEditsProposed"] >= 3 and engine.stats()["nextEditsReadyMs"]["p50"] is not None


def test_a_request_answers_what_the_background_announced_and_what_it_answered_is_not_announced(engine, announced,
                                                                                              settle):
    rename(engine)
    settle(engine)
    requests = engine.stats()["nextEditsRequests"]
    assert engine.next_edits.request(URI, budget_ms=0) == announced[-1][1:]
    assert engine.stats()["nextEditsRequests"] == requests + 1
    announced.clear()
    at = engine.text(URI).index("data")
    engine.change(URI, [TextChange(at, at + 4, "result")])  # another line: a new edit
    text, proposals = engine.next_edits.request(URI, budget_ms=math.inf)
    assert [(p.old, p.new, text[p.start: p.end]) for p in proposals] == [("data", "result", "data")]
    settle(engine)
    assert announced == []


def test_any_later_change_starts_over(engine, announced, settle):
    rename(engine)
    settle(engine)
    at = engine.text(URI).index("print")
    engine.change(URI, [TextChange(at, at, "x = 1\n")])  # no leaves repeated
    assert engine.next_edits.request(URI, budget_ms=math.inf) == (engine.text(URI), [])


def test_max_next_edits_bounds_a_set(engine, announced, settle):
    engine.reconfigure(engine.settings.replace(max_next_edits=2))
    rename(engine)
    settle(engine)
    assert len(announced[-1][2]) == 2


def test_with_next_edits_off_only_requests_compute(engine, announced, settle):
    engine.reconfigure(engine.settings.replace(next_edits=False))
    rename(engine)
    settle(engine)
    assert announced == []
    assert len(engine.next_edits.request(URI, budget_ms=math.inf)[1]) == 3


def test_no_edit_no_proposals_and_an_unknown_document_is_an_error(engine, announced):
    assert engine.next_edits.request(URI, budget_ms=math.inf) == (SOURCE, [])
    with pytest.raises(UnknownDocument):
        engine.next_edits.request("file:///never-opened.py", budget_ms=math.inf)
    assert engine.text(URI) == SOURCE


def test_feedback_is_counted(engine):
    before = engine.stats()
    engine.next_edits.feedback("accepted")
    engine.next_edits.feedback("dismissed")
    engine.next_edits.feedback("dismissed")
    after = engine.stats()
    assert after["nextEditsAccepted"] - before["nextEditsAccepted"] == 1
    assert after["nextEditsDismissed"] - before["nextEditsDismissed"] == 2
    assert isinstance(engine.next_edits, NextEdits)


def test_an_edit_in_another_document_than_the_last_completed_one_is_worked_on(engine, announced, settle):
    other = "file:///other.py"
    engine.open(other, "x = 1\n", "python")
    engine.complete(other, 5)
    rename(engine)
    settle(engine)
    assert announced and announced[-1][0] == URI
    engine.close(other)


@pytest.mark.parametrize("layout", ["ltr", "psm", "spm"])
def test_in_every_layout_the_places_scored_are_where_the_cache_holds_the_documents_tokens(tiny_fim_model_dir,
                                                                                        layout, settle):
    """The slot map that scoring reads: each document token it covers is the cached token at its slot. FIM
    layouts cover the part before the cursor only."""
    engine = Engine(Settings(model=str(tiny_fim_model_dir), device="cpu", max_tokens=4, fim_layout=layout,
                             next_edits_threshold=-math.inf))
    engine.open(URI, SOURCE, "python")
    at = SOURCE.index("return data, path") + len("return data, ")
    engine.complete(URI, at)
    engine.change(URI, [TextChange(at, at + 4, "file")])  # the last use renamed, the cursor after it
    settle(engine)
    doc = engine.documents[URI]
    edited = doc.cursor  # the window is the completions'
    target = engine.prompts.target(doc, edited, engine.context.segment(doc), full=True)
    assert doc.session.tokens == target.tokens
    slots = engine.next_edits.cached_slots(doc, target, edited, len(engine.context.segment(doc)))
    covered = range(slots.first_token, slots.end_token)
    assert [doc.session.tokens[slots.slot(i)] for i in covered] == doc.mirror.tokens[slots.first_token: slots.end_token]
    text, proposals = engine.next_edits.request(URI, budget_ms=math.inf)
    assert len(proposals) == 3 and all(text[p.start: p.end] == "path" and p.new == "file" for p in proposals)


def test_an_edit_far_from_the_grown_window_before_any_request_moves_it_once_and_is_proposed(engine, announced,
                                                                                             settle):
    """No request yet: the window grew at the file's start; an edit deep in a long file brings it there (the
    window's background growth agrees), and the background ends with proposals."""
    source = "".join(f"def step_{i}(value):\n    total = value + {i}\n    return total * value\n\n\n"
                     for i in range(150))
    uri = "file:///long.py"
    engine.reconfigure(engine.settings.replace(max_next_edits=64))  # every place scored is in the set
    seen = announced
    engine.open(uri, source, "python")
    settle(engine)
    at = source.index("def step_120(value") + len("def step_120(")
    engine.change(uri, [TextChange(at, at + len("value"), "amount")])
    settle(engine)
    assert seen and seen[-1][0] == uri
    text = seen[-1][1]
    body = text.index("    total = value + 120")
    uses = {text.index("value", body), text.index("value", text.index("return total", body))}
    assert uses <= {p.start for p in seen[-1][2]}
    engine.close(uri)


def test_each_kind_of_change_has_its_margin_and_only_those_near_the_best_one_per_line_are_kept():
    """Pure insertions are kept INSERTION_ALLOWANCE below the threshold, pure deletions need DELETION_MARGIN
    above it, and nothing more than BEST_GAP below the best is kept; of one line's alternatives the best."""
    next_edits = NextEdits(SimpleNamespace(settings=Settings(next_edits_threshold=-1.0)))

    def kept(*scored: Proposal) -> list[int]:
        return [scored.index(p) for p in next_edits.proposals(_Job(edit=None, candidates=[], scored=list(scored)))]

    insertion = -1.0 - INSERTION_ALLOWANCE
    assert kept(Proposal(5, 5, "", ", b", insertion + 0.5), Proposal(9, 9, "", ", b", insertion - 0.5),
                Proposal(0, 1, "a", "b", insertion + 0.5)) == [0]
    deletion = -1.0 + DELETION_MARGIN
    assert kept(Proposal(20, 21, "a", "", deletion - 0.5), Proposal(22, 23, "a", "", deletion + 0.5),
                Proposal(0, 1, "a", "b", -0.5)) == [1, 2]
    assert kept(Proposal(0, 1, "a", "b", 9.0), Proposal(5, 6, "a", "b", 9.0 - BEST_GAP - 0.5),
                Proposal(7, 8, "a", "b", 9.0 - BEST_GAP + 0.5)) == [0, 2]
    assert kept(Proposal(0, 1, "a", "b", 2.0, line=3), Proposal(0, 3, "a a", "b b", 3.0, line=3),
                Proposal(5, 6, "a", "b", 1.0, line=4)) == [1, 2]


def test_a_rename_once_sure_keeps_its_places_above_its_allowance_and_a_renamed_definition_keeps_all_above_its_own():
    """Renames are judged as a set: past RENAME_SURE at one place, the others need only beat the threshold minus
    RENAME_ALLOWANCE however far below the best; a renamed definition's places beat the threshold minus
    DEFINITION_ALLOWANCE whatever the best. An extension of old code (``r`` before quotes) is an insertion, a
    word made longer is not."""
    threshold = -1.0
    next_edits = NextEdits(SimpleNamespace(settings=Settings(next_edits_threshold=threshold)))

    def kept(*scored: Proposal) -> list[int]:
        return [scored.index(p) for p in next_edits.proposals(_Job(edit=None, candidates=[], scored=list(scored)))]

    sure, floor = threshold + RENAME_SURE, threshold - RENAME_ALLOWANCE
    assert kept(Proposal(0, 1, "a", "b", sure + 20, kind=RENAME), Proposal(5, 6, "a", "b", floor + 0.5, kind=RENAME),
                Proposal(7, 8, "a", "b", floor - 0.5, kind=RENAME)) == [0, 1]
    assert kept(Proposal(0, 1, "a", "b", sure - 0.5, kind=RENAME), Proposal(5, 6, "a", "b", sure - BEST_GAP - 0.5,
                                                                        kind=RENAME)) == [0]  # not sure: the gap
    definition = threshold - DEFINITION_ALLOWANCE
    assert kept(Proposal(0, 1, "a", "b", 30.0, kind=DEFINITION), Proposal(5, 6, "a", "b", definition + 0.5,
                kind=DEFINITION), Proposal(7, 8, "a", "b", definition - 0.5, kind=DEFINITION)) == [0, 1]
    insertion = threshold - INSERTION_ALLOWANCE
    assert kept(Proposal(0, 3, '"""', 'r"""', 1.0), Proposal(5, 8, '"""', 'r"""', insertion + 0.5)) == [0]
    assert kept(Proposal(0, 3, '"""', 'r"""', 1.0), Proposal(5, 8, '"""', 'r"""', 1.0 - BEST_GAP + 0.5)) == [0, 1]
    assert kept(Proposal(0, 3, '"""', 'r"""', -5.0), Proposal(5, 9, "http", "https", -5.0, kind=WORD),
                Proposal(9, 10, "a", "b", -5.0)) == [0]


def test_a_replacement_made_identically_at_every_place_is_judged_as_a_set_when_its_places_are_anchored():
    """Like a rename, once one place of the same replacement scores RENAME_SURE above the threshold, its other
    places matched with SET_ANCHORS need only beat the threshold minus RENAME_ALLOWANCE; places matched with fewer
    anchors, another replacement, or a pure deletion keep the gap to the best."""
    threshold = -1.0
    next_edits = NextEdits(SimpleNamespace(settings=Settings(next_edits_threshold=threshold)))

    def kept(*scored: Proposal) -> list[int]:
        return [scored.index(p) for p in next_edits.proposals(_Job(edit=None, candidates=[], scored=list(scored)))]

    sure, floor, far = threshold + RENAME_SURE, threshold - RENAME_ALLOWANCE, SET_ANCHORS
    old, new = 'usefixtures("env")', "anyio"
    assert kept(Proposal(0, 18, old, new, sure + 20, anchors=far), Proposal(30, 48, old, new, floor + 0.5, anchors=far),
                Proposal(60, 78, old, new, floor - 0.5, anchors=far),
                Proposal(90, 108, old, new, floor + 0.5, anchors=far - 1)) == [0, 1]
    assert kept(Proposal(0, 18, old, new, sure - 0.5, anchors=far),
                Proposal(30, 48, old, new, sure - BEST_GAP - 0.5, anchors=far)) == [0]  # not sure: the gap
    assert kept(Proposal(0, 18, old, new, sure + 20, anchors=far),
                Proposal(30, 48, old, "trio", floor + 0.5, anchors=far)) == [0]  # another change: its own set
    assert kept(Proposal(0, 7, "  # note", "", sure + 20, anchors=far),
                Proposal(30, 37, "  # note", "", sure + 19 - NARROW_GAP, anchors=far)) == [0]  # a deletion: the gap


def test_after_an_edit_where_ghost_text_was_asked_the_first_set_comes_before_the_windows_growth(engine, announced,
                                                                                               settle):
    """A request encodes the window up to its cursor; an edit there is scored as soon as the cache holds the
    edit (the first forward before other background work), the window's growth after it still to come."""
    source = "".join(f"def step_{i}(value):\n    total = value + {i}\n    return total * value\n\n\n"
                     for i in range(150))
    uri = "file:///grown.py"
    engine.open(uri, source, "python")
    settle(engine)
    at = source.index("def step_60(value") + len("def step_60(")
    engine.complete(uri, at)
    engine.change(uri, [TextChange(at, at + len("value"), "amount")])
    doc = engine.documents[uri]
    for _ in range(20):
        if announced or not engine.background_step():
            break
    assert announced and announced[-1][0] == uri
    full = engine.prompts.target(doc, doc.cursor, engine.context.segment(doc), full=True)
    assert len(doc.session.tokens) < len(full.tokens)  # proposed while the window has yet to grow
    assert doc.session.tokens == full.tokens[: len(doc.session.tokens)]
    body = announced[-1][1].index("    total = value + 60")
    assert announced[-1][1].index("value", body) in {p.start for p in announced[-1][2]}
    settle(engine)
    assert doc.session.tokens == full.tokens  # and it grows after
    engine.close(uri)


def test_deletions_and_words_are_kept_nearer_the_best_than_other_changes():
    next_edits = NextEdits(SimpleNamespace(settings=Settings(next_edits_threshold=-1.0)))

    def kept(*scored: Proposal) -> list[int]:
        return [scored.index(p) for p in next_edits.proposals(_Job(edit=None, candidates=[], scored=list(scored)))]

    between = 9.0 - (NARROW_GAP + BEST_GAP) / 2  # within BEST_GAP of the best, not within NARROW_GAP
    assert kept(Proposal(0, 1, "a", "", 9.0), Proposal(5, 6, "a", "", between),
                Proposal(7, 8, "a", "", 9.0 - NARROW_GAP + 0.5)) == [0, 2]
    assert kept(Proposal(0, 1, "3", "4", 9.0, kind=WORD), Proposal(5, 6, "3", "4", between, kind=WORD)) == [0]
    assert kept(Proposal(0, 1, "a", "b", 9.0), Proposal(5, 6, "a", "b", between)) == [0, 1]


def test_the_first_proposals_wait_for_a_due_prefetch_and_end_after_the_first_forward(engine, announced):
    rename(engine)
    doc = engine.documents[URI]
    assert engine.next_edits.first_due(doc)
    doc.prefetch = (doc.text[:10], "x")  # an accepted suggestion's insertion arrived: its decoding comes first
    assert next(scheduler.for_idle(doc, engine.settings.stale_budget, True)) is not Work.FIRST_PROPOSALS
    doc.prefetch = None
    assert next(scheduler.for_idle(doc, engine.settings.stale_budget, True)) is Work.FIRST_PROPOSALS
    steps = 0
    while engine.next_edits.first_due(doc):
        assert engine.background_step()
        steps += 1
    assert 2 <= steps <= 4 and announced  # the candidates, the cache brought past the edit, one forward
    assert engine.next_edits._jobs[URI].scored
