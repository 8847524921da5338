"""With the real default model on real, repetitive code: speculation changes speed, never the suggestion."""

from __future__ import annotations

import pytest

from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine

pytestmark = pytest.mark.default_model

SOURCE = '''class Vector:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, other):
        return Vector(self.x + other.x, self.y + other.y)

    def __sub__(self, other):
        return Vector(self.x - other.x, self.y - other.y)

    def __mul__(self, other):
'''


@pytest.fixture(scope="module", params=["float32", "bfloat16"])
def engines(request):
    # k = 1: with several suggestions in lockstep, the slowest one sets the number of forwards.
    return (Engine(Settings(device="cpu", dtype=request.param, max_tokens=24, suggestions=1, speculation=False)),
            Engine(Settings(device="cpu", dtype=request.param, max_tokens=24, suggestions=1, speculation=True)))


def same_suggestion(got, expected, dtype) -> bool:
    """The same text; in float32 the same log-probability too (bf16 logits of a tree forward and of a
    one-token forward differ in rounding, so only the chosen tokens are compared there)."""
    return got.text == expected.text and (dtype == "bfloat16" or got.logprob == expected.logprob)


def test_speculative_suggestions_equal_plain_greedy_and_drafts_get_accepted(engines):
    plain, speculative = engines
    for engine in engines:
        engine.open("file:///vector.py", SOURCE)
    expected = plain.complete("file:///vector.py", len(SOURCE))
    got = speculative.complete("file:///vector.py", len(SOURCE))
    assert same_suggestion(got.suggestions[0], expected.suggestions[0], plain.settings.dtype)
    assert speculative.stats()["draftTokensAccepted"] > 0
    assert speculative.stats()["forwards"] < plain.stats()["forwards"]
