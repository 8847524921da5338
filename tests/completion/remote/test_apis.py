"""The request and event mappings of llama-server's /completion and OpenAI's /v1/completions."""

from __future__ import annotations

import pytest

from kvcomplete.completion.remote.api import RemoteRequest, WrongModel
from kvcomplete.completion.remote.client import EngineUnavailable, HttpClient
from kvcomplete.completion.remote.llama_server import LlamaServerApi, healing_grammar
from kvcomplete.completion.remote.openai import OpenAiApi
from tests.completion.remote.fake_server import Behaviour, FakeServer

REQUEST = RemoteRequest(tokens=[1, 2, 3], healed="", max_tokens=9, key=0xABCDEF, time_limit_ms=500)


@pytest.mark.parametrize(("healed", "literal"), [
    ("    ", "    "), ("\n    ", "\\u000A    "), ('say("', 'say(\\"'), ("a\\b", "a\\\\b"), ("é", "\\u00E9"),
    ("🙂", "\\U0001F642")])
def test_the_healing_grammar_starts_with_the_healed_text_escaped(healed, literal):
    assert healing_grammar(healed) == f'root ::= "{literal}" .*'


def test_llama_server_asks_without_a_grammar_when_nothing_is_healed():
    body = LlamaServerApi().body(REQUEST)
    assert "grammar" not in body and "id_slot" not in body and body["prompt"] == [1, 2, 3]


def test_openai_sends_only_standard_fields():
    body = OpenAiApi("served").body(REQUEST)
    assert body == {"model": "served", "prompt": [1, 2, 3], "max_tokens": 9, "temperature": 0.0, "stream": True,
                    "stream_options": {"include_usage": True}}


def test_openai_reads_text_and_usage():
    api = OpenAiApi()
    assert api.text_of({"choices": [{"text": "ab", "index": 0}]}) == "ab"
    event = {"choices": [], "usage": {"prompt_tokens": 100, "prompt_tokens_details": {"cached_tokens": 96}}}
    usage = api.usage_of(event)
    assert (usage.prefilled, usage.cached) == (4, 96)


def test_facts_from_both_apis():
    server = FakeServer(Behaviour(slots=2, n_ctx=2048, n_vocab=49152, models=("a.gguf", "b.gguf")))
    try:
        http = HttpClient(server.url)
        facts = LlamaServerApi().facts(http, 2)
        assert (facts.model, facts.context_tokens, facts.vocab_size) == ("/models/a.gguf", 2048, 49152)
        assert OpenAiApi().facts(http, 2).model == "a.gguf"
        assert OpenAiApi("b.gguf").facts(http, 2).model == "b.gguf"
        with pytest.raises(WrongModel, match="it serves a.gguf, b.gguf, not backendModel 'c'"):
            OpenAiApi("c").facts(http, 2)
        with pytest.raises(EngineUnavailable, match="HTTP 404 from GET /nowhere: not found"):
            http.get_json("/nowhere", 2)
    finally:
        server.close()


def test_an_error_status_is_reported_with_the_server_message():
    server = FakeServer(Behaviour(status=503))
    try:
        stream = HttpClient(server.url).stream("/completion", {}, {}, 2)
        with stream, pytest.raises(EngineUnavailable, match="HTTP 503 from POST /completion: the engine is loading"):
            list(stream.events(lambda: float("inf"), lambda: False))
    finally:
        server.close()


def test_a_url_that_is_not_http_is_refused():
    with pytest.raises(ValueError, match="backendUrl must be http://HOST:PORT"):
        HttpClient("127.0.0.1:8080")
