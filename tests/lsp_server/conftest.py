"""Fixtures for the LSP tests: a server over real stdio, started and stopped by a pygls client."""

from __future__ import annotations

import contextlib
import sys

import pytest

pytest.register_assert_rewrite("tests.lsp_server.client")

from tests.lsp_server.client import WireClient  # noqa: E402

# Small and fast on a CPU: the tests check the protocol, not the suggestions.
TINY_OPTIONS = {"maxTokens": 4, "suggestions": 3, "logLevel": "info"}


@pytest.fixture
def tiny_options(tiny_model_dir) -> dict:
    return {**TINY_OPTIONS, "model": str(tiny_model_dir)}


@pytest.fixture
async def start_server():
    """``await start_server(options, encodings=...)`` → an initialized client; stopped (or killed) at the end."""
    clients: list[WireClient] = []

    async def start(options: dict | None, initialize: bool = True, **initialize_args) -> WireClient:
        client = WireClient()
        clients.append(client)
        await client.start()
        if initialize:
            await client.initialize(options, **initialize_args)
        return client

    yield start
    for client in clients:
        with contextlib.suppress(Exception):
            await client.kill()
        if client.stderr:
            sys.stderr.write(f"--- server stderr ---\n{client.stderr_text()[-4000:]}\n")
