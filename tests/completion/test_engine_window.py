"""The engine on files far longer than its context window: bounded caches that equal a fresh encode of the
window, background work in small steps, answers at the latency budget that grow into the unbudgeted ones."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvcomplete.completion.cache.session import EditMode, Session
from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine
from kvcomplete.completion.idle import BACKGROUND_CHUNK
from kvcomplete.completion.text.mirror import TextChange

URI = "file:///long.py"
FUNCTION = "def f{n}(a, b):\n    total = a + b * {n}\n    return total - {n}\n\n\n"
LONG = "".join(FUNCTION.format(n=n) for n in range(150))  # ~4k tokens
WINDOW = 256


def engine_for(model_dir, **overrides) -> Engine:
    options = dict(model=str(model_dir), device="cpu", dtype="float32", weights="fp32", context_tokens=WINDOW, max_tokens=4,
                   suggestions=1, speculation=False)
    return Engine(Settings(**{**options, **overrides}))


def assert_cache_is_the_window(engine: Engine, uri: str = URI) -> None:
    doc = engine.documents[uri]
    window = doc.window
    assert doc.session.tokens == doc.mirror.tokens[window.start: window.end]
    assert len(window) <= WINDOW
    assert all(position < WINDOW for position in doc.session.store.encoded_at[: doc.session.length].tolist())


@pytest.mark.parametrize("pie", [False, True])
def test_completions_across_a_long_file_use_a_bounded_window_equal_to_a_fresh_encode(tiny_model_dir, settle, pie):
    engine = engine_for(tiny_model_dir, pie=pie)
    engine.open(URI, LONG)
    assert len(engine.documents[URI].mirror.tokens) > 10 * WINDOW
    for offset in (LONG.index("def f3("), LONG.index("def f75("), len(LONG)):  # start, middle, end
        assert engine.complete(URI, offset).suggestions
        settle(engine)
        assert_cache_is_the_window(engine)
        session = engine.documents[URI].session
        fresh = Session(engine.runner, session.tokens, EditMode.REENCODE)
        layers = slice(None) if not pie else slice(0, 1)
        n = session.length
        for cached, reference in ((session.store.keys, fresh.store.keys), (session.store.values, fresh.store.values)):
            torch.testing.assert_close(cached[layers, :, :n], reference[layers, :, :n], atol=2e-5, rtol=1e-4)
    per_token = engine.runner.new_store(1).nbytes()
    assert engine.stats()["kvBytes"] <= 2 * (WINDOW + 256) * per_token  # the store grows by doubling


operation = st.one_of(
    st.tuples(st.just("request"), st.floats(0, 1)),
    st.tuples(st.just("edit"), st.floats(0, 1), st.integers(0, 12), st.sampled_from(["", "x", "(a)\n    ", "é"])),
    st.tuples(st.just("background"), st.integers(1, 3)),
)


@pytest.mark.slow  # twelve generated sessions on a model
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(operation, min_size=3, max_size=10))
def test_cursor_jumps_edits_and_background_steps_keep_the_cache_exactly_the_window(tiny_model_dir, operations):
    engine = engine_for(tiny_model_dir, max_tokens=1)
    text = LONG[:6000]
    engine.open(URI, text)
    for op in operations:
        if op[0] == "request":
            engine.complete(URI, int(op[1] * len(text)))
            assert_cache_is_the_window(engine)
        elif op[0] == "edit":
            start = int(op[1] * len(text))
            end = min(len(text), start + op[2])
            engine.change(URI, [TextChange(start, end, op[3])])
            text = text[:start] + op[3] + text[end:]
        else:
            for _ in range(op[1]):
                engine.background_step()
        assert engine.text(URI) == text
        doc = engine.documents[URI]
        assert engine.vocab.to_bytes(doc.mirror.tokens) == text.encode()


def test_background_work_comes_in_small_steps_and_grows_the_window_to_its_budget(tiny_model_dir, settle):
    engine = engine_for(tiny_model_dir)
    engine.open(URI, LONG)
    encoded = engine.runner.tokens_encoded
    assert engine.background_step()  # didOpen: the window is encoded in the background
    assert engine.runner.tokens_encoded - encoded <= BACKGROUND_CHUNK
    assert settle(engine) >= WINDOW // BACKGROUND_CHUNK - 1
    assert len(engine.documents[URI].window) == WINDOW
    encoded = engine.runner.tokens_encoded
    engine.complete(URI, LONG.index("def f2("))  # inside the warm window: nothing to encode
    assert engine.stats()["fullEncodes"] == 1 and engine.runner.tokens_encoded - encoded <= 1 + 4


def test_an_edit_at_the_top_of_the_window_encodes_only_what_was_typed(tiny_model_dir, settle):
    """The window's length changes what is re-rotated, never what is encoded."""
    costs = {}
    for window in (256, 1024):
        engine = engine_for(tiny_model_dir, context_tokens=window)
        engine.open(URI, LONG)
        engine.complete(URI, len(LONG) // 2)
        settle(engine)
        doc = engine.documents[URI]
        top = doc.mirror.token_start(doc.window.start + 2)
        top = len(LONG.encode()[:top].decode())
        engine.change(URI, [TextChange(top, top, "zz_top = 1\n")])
        encoded = engine.runner.tokens_encoded
        engine.complete(URI, len(LONG) // 2 + 11)
        costs[window] = engine.runner.tokens_encoded - encoded
    assert costs[256] == costs[1024]


def test_an_answer_at_the_latency_budget_is_a_prefix_that_grows_into_the_unbudgeted_answer(tiny_model_dir, settle):
    reference = engine_for(tiny_model_dir, max_tokens=24, suggestions=2)
    budgeted = engine_for(tiny_model_dir, max_tokens=24, suggestions=2)
    text = LONG[:3000] + "def g(a, b):\n    "
    changed = []
    budgeted.on_suggestions_changed = lambda uri, offset: changed.append(offset)
    for engine in (reference, budgeted):
        engine.open(URI, text)
    full = reference.complete(URI, len(text)).suggestions
    first = budgeted.complete(URI, len(text), budget_ms=0.001)  # at the first step with text
    assert first.partial and full[0].text.startswith(first.suggestions[0].text)
    assert len(first.suggestions[0].text) < len(full[0].text)
    settle(budgeted)
    assert changed and set(changed) == {len(text)}
    again = budgeted.complete(URI, len(text))  # answered from what background decoding finished
    assert [s.text for s in again.suggestions] == [s.text for s in full] and not again.partial
    assert "type_along" in again.timings_ms


def test_a_request_resuming_a_decoding_answers_with_what_it_has(tiny_model_dir, settle):
    """Its budget was spent where the decoding started: asked again at the same place (after a
    suggestionsChanged, or after the prefetch that follows an accept), it answers without a forward, and
    background work goes on with it."""
    engine = engine_for(tiny_model_dir, max_tokens=24, suggestions=2)
    text = LONG[:3000] + "def g(a, b):\n    "
    engine.open(URI, text)
    first = engine.complete(URI, len(text), budget_ms=0.001)
    engine.background_step()  # one more step of it
    computed = engine.runner.tokens_encoded  # every forward's tokens, decoding's included
    again = engine.complete(URI, len(text), budget_ms=300)
    assert again.partial and engine.stats()["continued"] == 1
    assert len(again.suggestions[0].text) >= len(first.suggestions[0].text)
    assert engine.runner.tokens_encoded == computed, "no forward on the request's path"
    settle(engine)
    assert not engine.complete(URI, len(text), budget_ms=300).partial


def test_prefetch_after_an_accept_answers_the_next_request_without_a_forward(tiny_model_dir, settle):
    engine = engine_for(tiny_model_dir, max_tokens=6)
    text = LONG[:2000]
    engine.open(URI, text)
    shown = engine.complete(URI, len(text)).suggestions[0].text
    assert shown
    engine.accept(URI, shown)
    engine.change(URI, [TextChange(len(text), len(text), shown)])
    settle(engine)
    assert engine.stats()["prefetches"] == 1
    encoded = engine.runner.tokens_encoded
    answer = engine.complete(URI, len(text) + len(shown))
    assert engine.runner.tokens_encoded == encoded and "type_along" in answer.timings_ms
