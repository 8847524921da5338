"""Fixtures the engine's tests share."""

from __future__ import annotations

from typing import Callable

import pytest

from kvcomplete.completion.decoding.decoding import Decoding
from kvcomplete.completion.decoding.stops import StopRule
from kvcomplete.completion.model import attention


@pytest.fixture(scope="session")
def never_stop() -> StopRule:
    """A stop rule that never ends a suggestion: decoding runs to max_tokens (or EOS)."""
    return StopRule(multiline=True, line_suffix="", block_indent=-1, next_line="")


@pytest.fixture(scope="session")
def decode_to_end(never_stop) -> Callable:
    """Decode to the end, as a request without a latency budget does: (branches, stats)."""

    def decode(runner, store, prompt, vocab, k, max_tokens, stop=None, drafting=None, budget=None):
        decoding = Decoding(runner, store, prompt, vocab, stop or never_stop, k, max_tokens, drafting=drafting,
                            budget=budget)
        decoding.run(lambda: False)
        return decoding.branches, decoding.stats

    return decode


@pytest.fixture(scope="session")
def settle() -> Callable[..., int]:
    """``settle(engine, limit=500)``: run the engine's background work until there is none; the steps taken."""

    def run(engine, limit: int = 500) -> int:
        for step in range(limit):
            if not engine.background_step():
                return step
        raise AssertionError("background work did not end")

    return run


@pytest.fixture
def count_tree_attention(monkeypatch) -> Callable[[], list[int]]:
    """``count_tree_attention()`` → a list that gets an entry at each later call of the attention module's
    tree_attention (which still runs): whether a forward went through the tree kernel."""

    def start() -> list[int]:
        calls, kernel = [], attention.tree_attention

        def counted(*args, **kwargs):
            calls.append(1)
            return kernel(*args, **kwargs)

        monkeypatch.setattr(attention, "tree_attention", counted)
        return calls

    return start
