"""RemoteEngine against an in-process fake server: request mapping, routing keys, the stream, failures, statistics."""

from __future__ import annotations

import socket
import time

import pytest

from kvcomplete.completion.decoding.scratch import Cancelled
from kvcomplete.completion.remote.llama_server import healing_grammar
from kvcomplete.completion.text.mirror import TextChange
from tests.completion.remote.fake_server import Behaviour, FakeServer

SOURCE = "def area(width, height):\n    return width * height\n\n\ndef perimeter(width, height):\n    "


def test_request_carries_the_prompt_tokens_cursor_last_and_greedy_fields(fake_server, remote_engine):
    engine = remote_engine(fake_server.url, max_tokens=17, backend_timeout_ms=3000)
    engine.open("file:///a.py", SOURCE, "python")
    engine.complete("file:///a.py", len(SOURCE))
    (body,) = fake_server.bodies()
    doc = engine.documents["file:///a.py"]
    split = engine.prompts.split(doc.mirror, len(SOURCE))
    assert body["prompt"] == doc.mirror.tokens[: split.prompt_length]  # healed: backed off one token
    assert split.healed and body["grammar"] == healing_grammar(split.healed.decode())
    assert body["n_predict"] == 17 and body["t_max_predict_ms"] == 3000
    assert (body["cache_prompt"], body["stream"], body["temperature"], body["top_k"]) == (True, True, 0.0, 1)
    assert "id_slot" not in body  # the server picks the slot whose cache shares most with the prompt


def test_the_suggestion_starts_after_the_healed_text_and_ends_by_the_stop_rule(fake_server, remote_engine):
    engine = remote_engine(fake_server.url)
    text = "x = compute(1)\ny = "
    engine.open("file:///b.py", text, "python")
    healed = healed_at(engine, "file:///b.py", len(text))
    fake_server.behaviour.pieces = [healed, "total", "(x)", "\nprint(y)", "\n"]
    completion = engine.complete("file:///b.py", len(text))
    assert [s.text for s in completion.suggestions] == ["total(x)"]
    assert completion.reason is None


def test_a_stream_leaving_the_healed_text_gives_no_suggestion(fake_server, remote_engine):
    engine = remote_engine(fake_server.url, backend="openai")
    text = "value = 1\nval"
    engine.open("file:///c.py", text, "python")
    fake_server.behaviour.pieces = ["zzz", "zz\n"]
    completion = engine.complete("file:///c.py", len(text))
    assert completion.suggestions == [] and "token healing" in completion.reason


def test_a_file_keeps_its_routing_key_and_files_differ(fake_server, remote_engine):
    engine = remote_engine(fake_server.url)
    uris = [f"file:///project/module_{i}.py" for i in range(12)]
    for uri in uris:
        engine.open(uri, "import os\n", "python")
    for uri in uris + uris:
        engine.complete(uri, len("import os\n"))
    keys = [headers["X-Kvcomplete-Key"] for _, _, headers in fake_server.requests]
    assert keys[:12] == keys[12:] and len(set(keys)) == 12


def test_cancelling_closes_the_stream_on_the_server(fake_server, remote_engine):
    fake_server.behaviour.endless, fake_server.behaviour.delay_s = True, 0.01
    engine = remote_engine(fake_server.url, backend_timeout_ms=60_000)
    engine.open("file:///d.py", "if x:\n", "python")
    fake_server.behaviour.pieces = [healed_at(engine, "file:///d.py", 6)]
    cancel_at = time.perf_counter() + 0.2
    with pytest.raises(Cancelled):
        engine.complete("file:///d.py", len("if x:\n"), cancelled=lambda: time.perf_counter() > cancel_at)
    assert fake_server.disconnected.wait(5)


def test_a_suggestion_cut_at_the_latency_budget_streams_on_in_idle_time(fake_server, remote_engine):
    fake_server.behaviour.delay_s = 0.15
    engine = remote_engine(fake_server.url, backend_timeout_ms=60_000)
    changed = []
    engine.on_suggestions_changed = lambda uri, offset: changed.append((uri, offset))
    engine.open("file:///e.py", "if x:\n", "python")
    fake_server.behaviour.pieces = [healed_at(engine, "file:///e.py", 6), "    x = f(", "a", "b", ")\n", "y = 2\n"]
    cut = engine.complete("file:///e.py", 6, budget_ms=200)
    assert cut.partial and cut.suggestions[0].text.startswith("    x = f(")
    while not changed:
        assert engine.background_step() is True
    assert changed == [("file:///e.py", 6)] and engine.background_step() is False
    (whole,) = engine.complete("file:///e.py", 6).suggestions
    assert whole.text == "    x = f(ab)" and len(fake_server.requests) == 1  # answered by type-along
    assert engine.stats()["partialAnswers"] == 1


def test_a_new_request_closes_the_stream_still_in_flight(fake_server, remote_engine):
    fake_server.behaviour.endless, fake_server.behaviour.delay_s = True, 0.01
    engine = remote_engine(fake_server.url, backend_timeout_ms=60_000)
    engine.open("file:///e.py", "if x:\n    y = 1\n", "python")
    fake_server.behaviour.pieces = [healed_at(engine, "file:///e.py", 6), "    x = f("]
    assert engine.complete("file:///e.py", 6, budget_ms=200).partial
    assert not fake_server.disconnected.is_set()
    fake_server.behaviour.endless = False
    engine.complete("file:///e.py", 16, budget_ms=200)
    assert fake_server.disconnected.wait(5) and engine.in_flight is None


def test_a_slow_engine_answers_empty_with_the_reason(fake_server, remote_engine):
    fake_server.behaviour.head_delay_s = 3
    engine = remote_engine(fake_server.url, backend_timeout_ms=300)
    engine.open("file:///f.py", "x = 1\n", "python")
    started = time.perf_counter()
    completion = engine.complete("file:///f.py", len("x = 1\n"), budget_ms=200)
    assert completion.suggestions == [] and "no text within backendTimeoutMs" in completion.reason
    assert time.perf_counter() - started < 2.5  # not the server's 3 s


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_down_engine_answers_empty_and_is_not_tried_again_before_its_delay(remote_engine):
    engine = remote_engine(f"http://127.0.0.1:{_free_port()}")
    engine.open("file:///g.py", "x = 1\n", "python")
    first = engine.complete("file:///g.py", 6)
    assert first.suggestions == [] and "connection refused" in first.reason
    assert engine.stats()["backend"]["state"] == "down"
    failures = engine.backend.link.failures
    second = engine.complete("file:///g.py", 6)
    assert second.reason == first.reason and engine.backend.link.failures == failures  # not tried: inside its delay


def test_an_engine_back_up_is_used_again_after_the_delay(fake_server, remote_engine):
    engine = remote_engine(fake_server.url)
    engine.open("file:///h.py", "x = 1\n", "python")
    fake_server.behaviour.pieces = [healed_at(engine, "file:///h.py", 6), "y = 2\n"]
    engine.backend.link.failed("connection refused")
    assert engine.complete("file:///h.py", 6).suggestions == []
    engine.backend.link.retry_at = 0.0  # the delay has passed
    assert engine.background_step() is True
    assert engine.backend.link.state == "ok"
    assert engine.complete("file:///h.py", 6).suggestions


def test_the_editor_is_told_when_the_engine_goes_down_and_when_it_is_back(fake_server, remote_engine):
    engine = remote_engine(fake_server.url)
    told = []
    engine.on_backend_changed = lambda message, up: told.append((message, up))
    engine.open("file:///h.py", "x = 1\n", "python")
    fake_server.behaviour.status = 503
    engine.complete("file:///h.py", 6)  # up: the request fails
    engine.complete("file:///h.py", 6)  # down: not tried again, nothing more to say
    fake_server.behaviour.status = 200
    engine.backend.link.retry_at = 0.0
    assert engine.background_step() is True
    assert told == [((f"kvcomplete: llama-server at {fake_server.url}: HTTP 503 from POST /completion: the engine "
                     "is loading (no suggestions until it answers)"), False),
                    (f"kvcomplete: llama-server at {fake_server.url} answers again", True)]


def test_another_model_is_refused_naming_both(fake_server, remote_engine):
    fake_server.behaviour.n_vocab = 32000
    engine = remote_engine(fake_server.url)
    engine.open("file:///i.py", "x = 1\n", "python")
    completion = engine.complete("file:///i.py", 6)
    assert completion.suggestions == [] and fake_server.requests == []
    assert engine.backend.link.state == "wrong-model"
    assert "SmolLM2-135M-Instruct.Q4_1.gguf" in completion.reason and "32000" in completion.reason
    assert "SmolLM2-135M (49152 tokens)" in completion.reason


def test_prefill_and_cache_counts_come_from_the_server(fake_server, remote_engine):
    engine = remote_engine(fake_server.url)
    engine.open("file:///j.py", "x = 1\n", "python")
    engine.complete("file:///j.py", 6)
    stats = engine.stats()
    assert (stats["remoteRequests"], stats["remotePrefilled"], stats["remoteCached"]) == (1, 7, 93)
    assert stats["remotePromptTokens"] == len(fake_server.bodies()[0]["prompt"])
    assert stats["backend"] == {"kind": "llama-server", "url": fake_server.url, "state": "ok", "error": None,
                                "fallback": "off"}


def test_typing_along_the_suggestion_asks_the_server_nothing(fake_server, remote_engine):
    engine = remote_engine(fake_server.url)
    engine.open("file:///k.py", "if x:\n", "python")
    fake_server.behaviour.pieces = [healed_at(engine, "file:///k.py", 6), "    x = 1\n"]
    engine.complete("file:///k.py", 6)
    engine.change("file:///k.py", [TextChange(6, 6, "    x")])
    (suggestion,) = engine.complete("file:///k.py", 11).suggestions
    assert suggestion.text == " = 1" and len(fake_server.requests) == 1


def healed_at(engine, uri: str, offset: int) -> str:
    """The text a request at ``offset`` backs off from: what the server's stream starts with."""
    return engine.prompts.split(engine.documents[uri].mirror, offset).healed.decode()


def test_another_backend_url_applies_to_the_next_request(fake_server, remote_engine):
    engine = remote_engine(fake_server.url)
    engine.open("file:///l.py", "x = 1\n", "python")
    other = FakeServer(Behaviour(slots=1))
    try:
        engine.reconfigure(engine.settings.replace(backend_url=other.url))
        engine.complete("file:///l.py", 6)
        assert len(other.requests) == 1 and fake_server.requests == []
        assert engine.stats()["backend"]["url"] == other.url
    finally:
        other.close()
