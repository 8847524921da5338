"""Fill-in-the-middle layouts in the engine, on a tiny StarCoder2 whose tokenizer has FIM tokens."""

from __future__ import annotations

import random

import pytest
import torch

from kvcomplete.completion.cache.session import EditMode, Session
from kvcomplete.completion.config import Settings
from kvcomplete.completion.decoding.decoding import choose
from kvcomplete.completion.engine import Engine, ModelError
from kvcomplete.completion.text.mirror import TextChange

URI = "file:///work/fim.py"
SOURCE = '''def mean(values):
    total = 0
    for value in values:
        total += value
    return total / len(values)


def spread(values):
    return max(values) - min(values)
'''
FIM_NAMES = ("<fim_prefix>", "<fim_suffix>", "<fim_middle>")


def fim_engine(model_dir, layout: str, pie: bool = True) -> Engine:
    """float32: the cache comparisons below hold to fp32 rounding (bf16 would need bf16 tolerances)."""
    return Engine(Settings(model=str(model_dir), device="cpu", dtype="float32", weights="fp32", fim_layout=layout, pie=pie,
                           max_tokens=4, suggestions=2))


def expected_prompt(layout: str, text: str, cursor: int, healed: str) -> str:
    before, after = text[: cursor - len(healed)], text[cursor:]
    if layout == "psm":
        return f"<fim_prefix>{before}<fim_suffix>{after}<fim_middle>"
    return f"<fim_prefix><fim_suffix>{after}<fim_middle>{before}"


def rendered(engine: Engine, tokens: list[int]) -> str:
    """The prompt's text with FIM tokens spelled out (the vocabulary renders special tokens as nothing)."""
    names = {token: name for token, name in zip(engine.loaded.tokenizer.convert_tokens_to_ids(FIM_NAMES), FIM_NAMES)}
    pieces = [names.get(token) or engine.vocab.bytes_of[token].decode("utf-8", "surrogateescape") for token in tokens]
    return "".join(pieces).encode("utf-8", "surrogateescape").decode("utf-8")


def edit_session(engine: Engine, seed: int) -> str:
    """Random typing, deleting and cursor moves with a request after each; returns the final text."""
    rng = random.Random(seed)
    engine.open(URI, SOURCE)
    text, cursor = SOURCE, SOURCE.index("total +=")
    for _ in range(12):
        action = rng.random()
        if action < 0.5:  # type at the cursor
            typed = rng.choice(["x", " ", "(", "\n    ", "ab"])
            change, cursor = TextChange(cursor, cursor, typed), cursor + len(typed)
        elif action < 0.7 and cursor > 0:  # backspace
            change, cursor = TextChange(cursor - 1, cursor, ""), cursor - 1
        elif action < 0.85:  # an edit elsewhere
            at = rng.randrange(len(text) + 1)
            change = TextChange(at, at, "# note\n")
            cursor += len(change.text) if at <= cursor else 0
        else:  # move the cursor
            change, cursor = None, rng.randrange(len(text) + 1)
        if change is not None:
            text = text[: change.start] + change.text + text[change.end:]
            engine.change(URI, [change])
        if "type_along" in engine.complete(URI, cursor).timings_ms:
            continue  # answered from the suggestions shown, without touching the cache
        doc = engine.documents[URI]
        healed = engine.prompts.split(doc.mirror, cursor).healed.decode("utf-8", errors="strict")
        assert rendered(engine, doc.session.tokens) == expected_prompt(engine.settings.fim_layout, text, cursor, healed)
    return text


@pytest.mark.parametrize("layout", ["psm", "spm"])
def test_fim_prompt_follows_edits_and_cursor_moves(tiny_fim_model_dir, layout):
    engine = fim_engine(tiny_fim_model_dir, layout)
    assert edit_session(engine, seed=7) == engine.text(URI)
    assert engine.stats()["pieUpdates"] > 0


@pytest.mark.parametrize("layout", ["psm", "spm"])
def test_fim_cache_is_a_fresh_encode_without_pie_and_layer0_exact_with_it(tiny_fim_model_dir, layout):
    for pie in (False, True):
        engine = fim_engine(tiny_fim_model_dir, layout, pie=pie)
        edit_session(engine, seed=11)
        session = engine.documents[URI].session
        fresh = Session(engine.runner, session.tokens, EditMode.REENCODE)
        n = session.length
        layers = slice(None) if not pie else slice(0, 1)
        for cached, reference in ((session.store.keys, fresh.store.keys), (session.store.values, fresh.store.values)):
            torch.testing.assert_close(cached[layers, :, :n], reference[layers, :, :n], atol=2e-5, rtol=1e-4)


def test_spm_typing_at_the_cursor_leaves_nothing_stale_and_psm_does(tiny_fim_model_dir):
    stale = {}
    for layout in ("spm", "psm"):
        engine = fim_engine(tiny_fim_model_dir, layout)
        engine.open(URI, SOURCE)
        cursor = SOURCE.index("    return total")
        engine.complete(URI, cursor)
        for char in "if not values:":
            engine.change(URI, [TextChange(cursor, cursor, char)])
            cursor += 1
            engine.complete(URI, cursor)
        stale[layout] = engine.documents[URI].session.stale_count()
    assert stale["spm"] == 0
    assert stale["psm"] > len(SOURCE[SOURCE.index("    return total"):]) // 8  # the whole suffix is stale


@pytest.mark.parametrize("layout", ["psm", "spm"])
def test_fim_suggestion_is_greedy_decoding_of_the_fim_prompt(tiny_fim_model_dir, layout):
    """Suggestion #1 is the model's healed greedy continuation of the FIM prompt, recomputed here with
    whole-sequence forwards of the stock model."""
    engine = fim_engine(tiny_fim_model_dir, layout)
    cursor = SOURCE.index("total / len") + len("total / l")
    engine.open(URI, SOURCE)
    suggestions = engine.complete(URI, cursor, k=1, max_tokens=4).suggestions
    doc = engine.documents[URI]
    healed = engine.prompts.split(doc.mirror, cursor).healed
    tokens, pending = list(doc.session.tokens), healed
    with torch.inference_mode():
        for _ in range(4):
            logprobs = engine.loaded.model(torch.tensor([tokens])).logits[0, -1].log_softmax(-1)
            token = choose(logprobs, engine.vocab, pending, 1)[0]
            piece = engine.vocab.bytes_of[token]
            pending = pending[len(piece):] if len(piece) < len(pending) else b""
            tokens.append(token)
    reference = engine.vocab.to_bytes(tokens[doc.session.length:])[len(healed):].decode("utf-8", "replace")
    assert suggestions, "the tiny model's greedy text here is not empty"
    assert reference.startswith(suggestions[0].text)


def test_fim_layout_needs_fim_tokens(tiny_model_dir):
    with pytest.raises(ModelError, match="FIM tokens"):
        Engine(Settings(model=str(tiny_model_dir), device="cpu", fim_layout="spm"))


def test_a_refused_layout_leaves_the_engine_as_it_was(tiny_model_dir):
    engine = Engine(Settings(model=str(tiny_model_dir), device="cpu"))
    engine.open(URI, SOURCE)
    with pytest.raises(ModelError, match="FIM tokens"):
        engine.reconfigure(engine.settings.replace(fim_layout="psm"))
    assert engine.settings.fim_layout == "auto" and engine.text(URI) == SOURCE
    assert engine.complete(URI, len(SOURCE)).reason is None
