"""backendFallback: the local model answers while the backend is down, loaded in a thread at the first failure."""

from __future__ import annotations

import time

import pytest

from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine
from kvcomplete.completion.model.spec import ModelError
from kvcomplete.completion.text.mirror import TextChange
from tests.completion.remote.test_engine import _free_port

URI, TEXT = "file:///f.py", "def area(width, height):\n    return width * height\n\n\ndef perimeter(width, height):\n"


def _answered(engine, offset: int, timeout_s: float = 60):
    """The first completion at ``offset`` with suggestions (the fallback loads meanwhile)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        completion = engine.complete(URI, offset)
        if completion.suggestions:
            return completion
        time.sleep(0.05)
    pytest.fail(f"no suggestion within {timeout_s} s: {engine.stats()['backend']}")


def test_the_local_model_answers_while_the_backend_is_down(remote_engine, tiny_model_dir):
    local = {"model": str(tiny_model_dir), "device": "cpu", "max_tokens": 3, "suggestions": 1}
    engine = remote_engine(f"http://127.0.0.1:{_free_port()}", backend_fallback=True, **local)
    engine.open(URI, TEXT, "python")
    first = engine.complete(URI, len(TEXT))
    assert first.suggestions == [] and "connection refused" in first.reason  # the model is loading meanwhile
    assert engine.stats()["backend"]["fallback"] == "loading"
    engine.change(URI, [TextChange(len(TEXT), len(TEXT), "    ")])  # before the hand-over: it gets the text as is
    answer = _answered(engine, len(TEXT) + 4)
    reference = Engine(Settings(**local))
    reference.open(URI, TEXT + "    ", "python")
    assert [s.text for s in answer.suggestions] == [s.text for s in reference.complete(URI, len(TEXT) + 4).suggestions]
    engine.change(URI, [TextChange(0, 0, "# top\n")])  # after the hand-over: kept in step
    assert engine.fallback.engine.text(URI) == engine.text(URI)
    stats = engine.stats()
    assert stats["backend"] == {**stats["backend"], "state": "down", "fallback": "ready"}
    assert stats["fallbackAnswers"] >= 1 and stats["remoteRequests"] == 0


def test_the_backend_answers_again_once_it_is_back(fake_server, remote_engine, tiny_model_dir):
    engine = remote_engine(fake_server.url, backend_fallback=True, model=str(tiny_model_dir), device="cpu",
                           max_tokens=2)
    engine.open(URI, TEXT, "python")
    engine.backend.link.failed("connection refused")
    engine.backend.link.retry_at = float("inf")  # down until the test says otherwise
    _answered(engine, len(TEXT))
    answered_locally = engine.stats()["fallbackAnswers"]
    engine.backend.link.retry_at = 0.0  # the delay has passed: the next request finds the server up
    engine.complete(URI, len(TEXT))
    assert len(fake_server.requests) == 1 and engine.stats()["fallbackAnswers"] == answered_locally


def test_off_by_default_nothing_is_loaded(remote_engine):
    engine = remote_engine(f"http://127.0.0.1:{_free_port()}")
    engine.fallback.load = lambda settings: pytest.fail("loaded without backendFallback")
    engine.open(URI, TEXT, "python")
    assert engine.complete(URI, len(TEXT)).suggestions == []
    assert engine.stats()["backend"]["fallback"] == "off"


def test_a_fallback_that_cannot_load_is_reported_and_requests_answer_empty(remote_engine):
    def refuse(settings):
        raise ModelError("no weights here")

    engine = remote_engine(f"http://127.0.0.1:{_free_port()}", backend_fallback=True)
    engine.fallback.load = refuse
    engine.open(URI, TEXT, "python")
    deadline = time.monotonic() + 10
    while engine.stats()["backend"]["fallback"] != "failed: ModelError: no weights here":
        completion = engine.complete(URI, len(TEXT))
        assert completion.suggestions == [] and "connection refused" in completion.reason
        assert time.monotonic() < deadline
        time.sleep(0.01)
