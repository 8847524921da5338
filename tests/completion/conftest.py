"""Fixtures the engine's tests share."""

from __future__ import annotations

from typing import Callable

import pytest

from kvcomplete.completion.decoding.decoding import Decoding
from kvcomplete.completion.decoding.stops import StopRule


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
