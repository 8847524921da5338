"""PIE under random edit sequences, on a tiny random model of every rotary family (fp32, CPU).

The product keeps a document's cache current by applying the editor's changes to the token mirror
(``TokenMirror.apply``) and, at the next request, ``Session.sync`` against the mirror's tokens: each differing
stretch is one PIE edit (the prefix kept, the inserted tokens encoded at their positions, the suffix moved
and its keys re-rotated from their original rotation). What that must guarantee (docs/architecture.md), after
every step of random insertions, deletions, replacements and multi-place changes, against a fresh encode of
the same tokens:

(a) layer 0 equals a fresh encode everywhere: a layer-0 key or value depends only on the token and its
    position, so a moved key re-rotated to its new position is exactly the fresh one;
(b) inserted tokens equal a fresh encode at every layer they could have seen correctly: with no stale slot
    before them, every layer; after stale slots (a multi-place step), whose layers from 1 on are off, the
    layers computed from layer-0 attention alone (0 and 1);
(c) once every stale slot is refreshed, all layers equal a fresh encode and suggestion #1 (greedy to the
    end of the text) is the fresh encode's, token for token.
The staleness bookkeeping is checked on the way: after a step exactly the kept slots from the first edit
on are stale. Each step starts from a fully refreshed cache, as background work leaves it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from kvcomplete.completion.cache.kv_store import KVStore
from kvcomplete.completion.cache.session import EditMode, Session
from kvcomplete.completion.cache.token_diff import diff_tokens
from kvcomplete.completion.config import Settings
from kvcomplete.completion.model.loading import load
from kvcomplete.completion.model.runner import ModelRunner
from kvcomplete.completion.prompt.builder import Prompt
from kvcomplete.completion.text.mirror import TextChange, TokenMirror
from kvcomplete.completion.text.vocab import Vocabulary

SOURCE = '''import json
from pathlib import Path


def load_users(path: Path) -> list[dict]:
    """Read the users file; skip blank lines."""
    users = []
    for line in path.read_text().splitlines():
        if line.strip():
            users.append(json.loads(line))
    return users


class Registry:
    def __init__(self):
        self.items = {}

    def add(self, key, value):
        self.items[key] = value
'''

SNIPPETS = ("x", " ", "\n", "\n    ", "(", "):", "self.", "return None\n", "    # note\n", "é", "中", "😀",
            "def f(a, b):\n    return a + b\n")
CHARACTERS = st.sampled_from("abxyz_ (){}:=.,'\"\n\t0123é")
TEXT = st.one_of(st.sampled_from(SNIPPETS), st.text(CHARACTERS, min_size=1, max_size=12))
MAX_SPAN = 40  # characters a deletion or replacement covers at most
SUGGESTION_TOKENS = 8
ATOL, RTOL = 2e-5, 1e-4
EVERY = slice(None)
LAYERS_FROM_LAYER0 = 2  # an inserted token's layers 0 and 1 read only the prefix's layer-0 K/V, exact by (a)


def positions(low: int, high: int) -> st.SearchStrategy[int]:
    """A position in [low, high], the ends drawn often (edits at the very start and end of the text)."""
    return st.one_of(st.sampled_from([low, high]), st.integers(low, high))


@st.composite
def text_changes(draw: st.DrawFn, length: int) -> TextChange:
    """One insertion, deletion or replacement inside a text of ``length`` characters (never emptying it)."""
    kind = draw(st.sampled_from(("insert", "delete", "replace") if length > 1 else ("insert", "replace")))
    if kind == "insert":
        at = draw(positions(0, length))
        return TextChange(at, at, draw(TEXT))
    start = draw(positions(0, length - 1))
    longest = MAX_SPAN if kind == "replace" else min(MAX_SPAN, length - 1)
    end = draw(positions(start + 1, min(length, start + longest)))
    return TextChange(start, end, "" if kind == "delete" else draw(TEXT))


@st.composite
def edit_steps(draw: st.DrawFn) -> list[list[TextChange]]:
    """A few steps, each the changes of one or more didChange notifications between two requests (in order,
    each in the coordinates the previous one left)."""
    steps, length = [], len(SOURCE)
    for _ in range(draw(st.integers(1, 3))):
        step = []
        for _ in range(draw(st.integers(1, 3))):
            change = draw(text_changes(length))
            step.append(change)
            length += len(change.text) - (change.end - change.start)
        steps.append(step)
    return steps


@pytest.fixture(scope="module")
def family_runner(tiny_family_dir) -> tuple[ModelRunner, Vocabulary]:
    loaded = load(Settings(model=str(tiny_family_dir), device="cpu", dtype="float32", weights="fp32"))
    return ModelRunner(loaded), Vocabulary(loaded.tokenizer)


def kv(session: Session) -> tuple[torch.Tensor, torch.Tensor]:
    """The document's keys and values, [layers, kv_heads, length, head_dim]."""
    return session.store.keys[:, :, : session.length], session.store.values[:, :, : session.length]


def assert_kv_close(session: Session, fresh: Session, layers: slice, slots: slice, what: str) -> None:
    for mine, theirs, kind in zip(kv(session), kv(fresh), ("keys", "values")):
        label = f"{what}, {kind}"
        torch.testing.assert_close(mine[layers, :, slots], theirs[layers, :, slots], atol=ATOL, rtol=RTOL,
                                   msg=lambda message, label=label: f"{label}: {message}")


def inserted_spans(old: list[int], new: list[int]) -> list[slice]:
    """The slots of ``new`` that the session encoded: the insertions of the edits ``sync`` applies."""
    return [slice(edit.start, edit.start + len(edit.inserted)) for edit in diff_tokens(old, new) if edit.inserted]


def expected_stale(old: list[int], new: list[int]) -> list[int]:
    """Kept slots from the first edit on: the ones whose deeper layers never saw the edit."""
    edits = diff_tokens(old, new)
    inserted = {slot for span in inserted_spans(old, new) for slot in range(span.start, span.stop)}
    return [slot for slot in range(edits[0].start if edits else len(new), len(new)) if slot not in inserted]


def stale_slots(session: Session) -> list[int]:
    """The slots the session marks stale."""
    return torch.nonzero(session.stale[: session.length]).flatten().tolist()


def suggestion(decode_to_end: Callable, runner: ModelRunner, vocab: Vocabulary, store: KVStore,
               tokens: list[int]) -> list[int]:
    """Greedy suggestion #1 from the end of the text (the last token re-run into scratch)."""
    prompt = Prompt(prefix_len=len(tokens) - 1, last_token=tokens[-1], last_position=len(tokens) - 1, healed=b"")
    branches, _ = decode_to_end(runner, store, prompt, vocab, k=1, max_tokens=SUGGESTION_TOKENS)
    return branches[0].tokens


@settings(max_examples=20, deadline=None, derandomize=True, database=None)
@given(steps=edit_steps())
def test_pie_follows_random_edits(family_runner: tuple[ModelRunner, Vocabulary], decode_to_end: Callable,
                                  steps: list[list[TextChange]]) -> None:
    runner, vocab = family_runner
    mirror = TokenMirror(vocab, SOURCE)
    session = Session(runner, mirror.tokens, EditMode.PIE)
    layers = session.store.shape[0]
    for step in steps:
        old = list(session.tokens)
        for change in step:
            mirror.apply(change)
        session.sync(mirror.tokens)
        assert session.tokens == mirror.tokens
        fresh = Session(runner, mirror.tokens, EditMode.REENCODE)

        assert_kv_close(session, fresh, slice(0, 1), EVERY, "(a) layer 0")
        assert stale_slots(session) == expected_stale(old, mirror.tokens)
        for span in inserted_spans(old, mirror.tokens):
            stale_before = bool(session.stale[: span.start].any())
            checked = slice(0, LAYERS_FROM_LAYER0 if stale_before else layers)
            assert_kv_close(session, fresh, checked, span, f"(b) inserted slots {span.start}:{span.stop}")

        session.refresh()
        assert session.stale_count() == 0
        assert_kv_close(session, fresh, EVERY, EVERY, "(c) every layer after refresh")
        first = suggestion(decode_to_end, runner, vocab, session.store, session.tokens)
        assert first == suggestion(decode_to_end, runner, vocab, fresh.store, fresh.tokens), "(c) suggestion #1"
        assert session.store.length == session.length, "decoding must leave the document's slots as they were"
