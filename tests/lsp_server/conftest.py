"""Fixtures for the LSP tests: a server over real stdio, started and stopped by a pygls client, and the helpers
of ``client.py`` and ``reference.py``, which the tests get as fixtures."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Awaitable, Callable

import pytest

pytest.register_assert_rewrite("tests.lsp_server.client")

from kvcomplete.demo.lsp_client import Editor  # noqa: E402
from tests.lsp_server import client as wire  # noqa: E402
from tests.lsp_server import reference  # noqa: E402

# Small and fast on a CPU: the tests check the protocol, not the suggestions.
TINY_OPTIONS = {"maxTokens": 4, "suggestions": 3, "logLevel": "info"}


@pytest.fixture(scope="module")
def tiny_options(tiny_model_dir) -> dict:
    """Module-scoped, for a server that a whole module shares (the fuzz test's): copy before changing it."""
    return {**TINY_OPTIONS, "model": str(tiny_model_dir)}


@pytest.fixture
async def start_server():
    """``await start_server(options, encodings=...)`` → an initialized client; stopped (or killed) at the end."""
    clients: list[wire.WireClient] = []

    async def start(options: dict | None, initialize: bool = True, **initialize_args) -> wire.WireClient:
        client = wire.WireClient()
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


@pytest.fixture(scope="session")
def wire_client_class() -> type[wire.WireClient]:
    """The tests' client class, for a server that outlives one test (``start_server`` stops its own)."""
    return wire.WireClient


@pytest.fixture(scope="session")
def server_command() -> list[str]:
    """``kvcomplete serve`` with the default settings, as the clients start it (from the checkout's root)."""
    return list(wire.SERVER_COMMAND)


@pytest.fixture(scope="session")
def check_in_sync() -> Callable[[Editor], Awaitable[None]]:
    """``await check_in_sync(editor)``: the server's and the engine's copies equal the editor's text and version."""
    return wire.check_in_sync


@pytest.fixture(scope="session")
def eventually() -> Callable[..., Awaitable]:
    """``await eventually(probe, timeout=30, interval=0.05)``: poll ``probe()`` until it is truthy, and return it."""
    return wire.eventually


@pytest.fixture(scope="session")
def frame() -> Callable[[bytes | str], bytes]:
    """``frame(body)``: the body with its Content-Length header, as LSP frames a message."""
    return wire.frame


@pytest.fixture(scope="session")
def lsp_offset() -> Callable[[str, int, int, str], int]:
    """``lsp_offset(text, line, character, encoding)``: LSP's position → code-point offset, from the specification."""
    return reference.lsp_offset


@pytest.fixture(scope="session")
def lsp_replace() -> Callable[[str, tuple[int, int], tuple[int, int], str, str], str]:
    """``lsp_replace(text, start, end, new_text, encoding)``: the text after an incremental change, from the
    specification."""
    return reference.lsp_replace


@pytest.fixture(scope="session")
def checkout() -> Path:
    """The repository's root, where the servers run."""
    return wire.ROOT
