"""Scoring on the warm cache: the model's log-probabilities of the new text minus the old at each place, read
from scratch slots; the document's cache is left exactly as it was."""

from __future__ import annotations

import pytest
import torch

from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine
from kvcomplete.completion.next_edits.candidates import Candidate, find_candidates
from kvcomplete.completion.next_edits.edits import record_change
from kvcomplete.completion.next_edits.scoring import LOCAL_TOKENS, SlotMap, score, spans
from kvcomplete.completion.text.mirror import TextChange

URI = "file:///shapes.py"
SOURCE = """import math


def area(radius):
    return math.pi * radius * radius


def describe(shape, radius):
    size = area(radius)
    print(shape, radius, size)
    return radius > 10
"""


@pytest.fixture(scope="module")
def engine(tiny_model_dir):
    return Engine(Settings(model=str(tiny_model_dir), device="cpu", dtype="float32", pie=False))


@pytest.fixture
def renamed(engine):
    """The document with describe's ``radius`` parameter renamed, its cache holding the whole text, and the
    candidates with their spans."""
    at = SOURCE.index("shape, radius") + len("shape, ")
    change = TextChange(at, at + len("radius"), "r")
    engine.open(URI, SOURCE)
    engine.change(URI, [change])
    doc = engine.documents[URI]
    engine.prepare_cache(doc, len(doc.text))
    slots = SlotMap(doc.window.start, doc.window.end, 0)
    candidates = find_candidates(doc.text, record_change(None, SOURCE, change), "python")
    items = [spans(candidate, doc.mirror, slots) for candidate in candidates]
    assert len(candidates) == 7 and None not in items  # radius * radius: each alone and both
    return doc, slots, candidates, items


def reference_logprob(engine, context: list[int], continuation: list[int]) -> float:
    """log p(continuation | context) from one plain forward of the whole sequence."""
    ids = torch.tensor([context + continuation])
    with torch.inference_mode():
        logits = engine.loaded.model(input_ids=ids).logits[0].float()
    logprobs = torch.log_softmax(logits, dim=-1)
    start = len(context)
    return float(sum(logprobs[start + i - 1, token] for i, token in enumerate(continuation)))


def test_a_score_is_the_models_log_probability_of_the_new_text_minus_the_old(engine, renamed):
    doc, _, _, items = renamed
    scores = score(engine.runner, doc.session.store, items)
    for item, got in zip(items, scores):
        context = doc.session.tokens[: item.sees] + item.lead
        expected = reference_logprob(engine, context, item.new) - reference_logprob(engine, context, item.old)
        assert got == pytest.approx(expected, abs=2e-3)


def test_a_batch_scores_each_candidate_as_if_alone(engine, renamed):
    doc, _, _, items = renamed
    together = score(engine.runner, doc.session.store, items)
    alone = [score(engine.runner, doc.session.store, [item])[0] for item in items]
    assert together == pytest.approx(alone, abs=1e-3)


def test_scoring_leaves_the_documents_cache_as_it_was(engine, renamed):
    doc, _, _, items = renamed
    session, store = doc.session, doc.session.store
    length = store.length
    before = [tensor[:, :, :length].clone() for tensor in (store.keys, store.values, store.original_keys)]
    tokens, stale, encoded_at = list(session.tokens), session.stale.clone(), store.encoded_at[:length].clone()
    score(engine.runner, store, items)
    assert store.length == length and session.tokens == tokens and torch.equal(session.stale, stale)
    assert torch.equal(store.encoded_at[:length], encoded_at)
    for kept, tensor in zip(before, (store.keys, store.values, store.original_keys)):
        assert torch.equal(kept, tensor[:, :, :length])


def test_places_whose_tokens_are_not_cached_are_not_scored(engine, renamed):
    doc, _, candidates, _ = renamed
    last = max(candidates, key=lambda c: c.start)
    held = SlotMap(0, doc.mirror.token_index_at(doc.mirror.byte_offset(last.start)), 0)
    assert spans(last, doc.mirror, held) is None
    first = min(candidates, key=lambda c: c.start)
    assert spans(first, doc.mirror, SlotMap(doc.mirror.token_index_at(first.start), len(doc.mirror.tokens), 0)) is None


def test_insertions_and_replacements_inside_tokens_score_as_the_text_they_make(engine, renamed):
    """Whatever the place cuts (a token boundary, the middle of a token), the new tokens are the new text's
    own tokens up to the next token boundary, and the score is still the model's log-probability difference."""
    doc, slots, _, _ = renamed
    text = doc.text
    call = text.index("area(radius)") + len("area(radius")
    word = text.index("print(shape") + len("print(sh")
    made = [Candidate(call, call, "", ", 2", 0), Candidate(word, word, "", "ap", 0),
            Candidate(word - 2, word + 3, text[word - 2: word + 3], "x", 0)]
    items = [spans(candidate, doc.mirror, slots) for candidate in made]
    for candidate, item, got in zip(made, items, score(engine.runner, doc.session.store, items)):
        context = doc.session.tokens[: item.sees] + item.lead
        edited = text[: candidate.start] + candidate.new + text[candidate.end:]
        assert engine.vocab.decode(context + item.new) == edited[: len(engine.vocab.decode(context + item.new))]
        expected = reference_logprob(engine, context, item.new) - reference_logprob(engine, context, item.old)
        assert got == pytest.approx(expected, abs=2e-3)


def test_a_place_after_the_window_is_scored_behind_it_with_its_own_preceding_tokens(engine, renamed):
    """As if the window ended at the edit's line: the places after it see the window (the edit included) and
    LOCAL_TOKENS of their own context, at the positions after the window; the places inside score as before."""
    doc, _, candidates, _ = renamed
    mirror = doc.mirror
    cut = mirror.token_index_at(mirror.byte_offset(doc.text.index("size = area")))
    window = SlotMap(0, cut, 0, after_slot=cut)
    items = [spans(candidate, mirror, window) for candidate in candidates]
    after = [item for item in items if item.position == cut]
    assert len(after) == 3 and all(len(item.lead) == LOCAL_TOKENS for item in after)
    for item, got in zip(items, score(engine.runner, doc.session.store, items)):
        context = doc.session.tokens[: item.sees] + item.lead
        expected = reference_logprob(engine, context, item.new) - reference_logprob(engine, context, item.old)
        assert got == pytest.approx(expected, abs=2e-3)
    assert spans(candidates[0], mirror, SlotMap(0, cut, 0)) is None  # without after_slot (FIM): not scored


def test_a_place_before_the_edit_is_scored_behind_the_window_where_its_context_holds_the_edit(engine, renamed):
    """Left to right (after_slot), places before the edit's token are scored behind the window with their own
    LOCAL_TOKENS of context, so the model has read the edit before them; the places after it score in place."""
    doc, slots, candidates, in_place = renamed
    mirror = doc.mirror
    edit_token = mirror.token_index_at(mirror.byte_offset(doc.text.index("shape, r")))
    end = len(doc.session.tokens)
    behind = SlotMap(slots.first_token, slots.end_token, slots.first_slot, after_slot=end, edit_token=edit_token)
    items = [spans(candidate, mirror, behind) for candidate in candidates]
    before = [i for i, candidate in enumerate(candidates) if candidate.start < doc.text.index("shape, r")]
    assert len(before) == 4  # radius in area(): the parameter, each use alone and both
    for i, item in enumerate(items):
        if i in before:
            assert item.position == end and item.sees == end and 1 < len(item.lead) <= LOCAL_TOKENS
        else:
            assert item == in_place[i]
    for item, got in zip(items, score(engine.runner, doc.session.store, items)):
        context = doc.session.tokens[: item.sees] + item.lead
        expected = reference_logprob(engine, context, item.new) - reference_logprob(engine, context, item.old)
        assert got == pytest.approx(expected, abs=2e-3)
