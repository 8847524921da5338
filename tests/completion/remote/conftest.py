"""A RemoteEngine on the default model's tokenizer (no weights), against a FakeServer."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from kvcomplete.completion.config import Settings
from kvcomplete.completion.remote.engine import RemoteEngine
from tests.completion.remote.fake_server import Behaviour, FakeServer


@pytest.fixture
def fake_server():
    server = FakeServer(Behaviour())
    yield server
    server.close()


@pytest.fixture
def remote_engine(tokenizer):
    """``remote_engine(url, backend="llama-server", **settings)`` → a RemoteEngine using the session tokenizer."""

    def make(url: str, backend: str = "llama-server", **settings) -> RemoteEngine:
        chosen = Settings(backend=backend, backend_url=url, **settings)
        return RemoteEngine(chosen, tokenizer=(tokenizer, SimpleNamespace(model_type="llama"), "SmolLM2-135M"))

    return make
