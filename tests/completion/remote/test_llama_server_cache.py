"""What a real llama-server (built by `make llama-cpp`) prefills for our requests after an edit in the prompt.

Its chunk reuse (``n_cache_reuse``) only moves cached tokens toward the front: after the common prefix, the new
prompt must go on with a run of cached tokens. A deletion of whole tokens is thus served from the slot's cache,
while one token that is new at the edit (an insertion, or the token a deletion re-tokenizes) makes it prefill
everything after it again. docs/teams.md explains why, from the server's code.
"""

from __future__ import annotations

import inspect
import json.decoder
import time

import pytest

from kvcomplete import llama_cpp
from kvcomplete.bench.team import LlamaServerProcess
from kvcomplete.completion.config import Settings
from kvcomplete.completion.model import default_model
from kvcomplete.completion.remote.api import RemoteRequest
from kvcomplete.completion.remote.backend import Backend

pytestmark = [pytest.mark.e2e, pytest.mark.default_model,
              pytest.mark.skipif(llama_cpp.binary("llama-server") is None,
                                 reason=llama_cpp.missing_message("llama-server"))]

EDIT_AT, DELETED = 100, 30  # token index of the edit, tokens a deletion removes


@pytest.fixture(scope="module")
def backend():
    server = LlamaServerProcess(default_model.default_gguf_path(), slots=1, threads=2).start()
    try:
        yield Backend(Settings(backend="llama-server", backend_url=server.url, backend_timeout_ms=60_000))
    finally:
        server.stop()


def _prefilled(backend: Backend, tokens: list[int]) -> int:
    """The prompt tokens the server computed for ``tokens`` (our request fields, its one slot, two tokens asked)."""
    usage = None
    with backend.stream(RemoteRequest(tokens, "", 2, key=0, time_limit_ms=60_000)) as stream:
        for event in stream.events(lambda: time.perf_counter() + 60, lambda: False):
            usage = backend.api.usage_of(event) or usage
    assert usage is not None
    return usage.prefilled


def test_a_deletion_of_whole_tokens_is_served_from_the_cache_a_new_token_prefills_all_after_it(backend, tokenizer):
    base = tokenizer.encode(inspect.getsource(json.decoder))[:220]
    deleted = base[:EDIT_AT] + base[EDIT_AT + DELETED:]
    assert _prefilled(backend, base) == len(base)  # cold
    assert _prefilled(backend, deleted) == 1  # the tail is shifted, not prefilled; the last token is run again
    # new tokens inserted there: everything from them on is prefilled again
    inserted = base[:EDIT_AT] + tokenizer.encode("    # a line the server has not seen\n") + base[EDIT_AT:]
    assert _prefilled(backend, inserted) == len(inserted) - EDIT_AT
    # a deletion that leaves one new token at the edit (as when the text re-tokenizes there) is no better
    replaced = base[:EDIT_AT] + [tokenizer.encode("\n")[0]] + base[EDIT_AT + DELETED:]
    assert _prefilled(backend, replaced) == len(replaced) - EDIT_AT
