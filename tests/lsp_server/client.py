"""The tests' additions to the product's client (``demo/lsp_client.py``): the server run from this checkout,
raw bytes and batched messages for malformed or racing input, the in-sync check, and polling."""

from __future__ import annotations

import asyncio
import inspect
import json
from concurrent.futures import Future
from pathlib import Path

from lsprotocol import types

from kvcomplete.completion.config import Settings
from kvcomplete.demo.lsp_client import Editor, LspClient
from kvcomplete.demo.server import serve_command

ROOT = Path(__file__).resolve().parents[2]
SERVER_COMMAND = serve_command(Settings())


class WireClient(LspClient):
    """The product client on ``kvcomplete serve``, which can also write raw bytes onto the server's stdin."""

    def __init__(self) -> None:
        super().__init__("kvcomplete-tests")

    async def start(self) -> None:
        await super().start(SERVER_COMMAND, cwd=str(ROOT))

    async def initialize(self, options: dict | None, **arguments) -> types.InitializeResult:
        """No workspace unless ``root_uri`` is given: indexing one is work that the protocol tests do not need."""
        return await super().initialize(options, **arguments)

    def inline_message(self, uri: str, position: types.Position) -> dict:
        """A textDocument/inlineCompletion message without an id, as JSON, for ``send_together``."""
        params = self.protocol._converter.unstructure(self.inline_params(uri, position))
        return {"method": types.TEXT_DOCUMENT_INLINE_COMPLETION, "params": params}

    def send_together(self, *messages: dict) -> dict:
        """JSON-RPC messages in one write, so the server reads them in one go, before any of their handlers
        runs. Returns {id: future} for the requests among them."""
        futures = {}
        for payload in messages:
            if "id" in payload:
                futures[payload["id"]] = self.protocol._request_futures[payload["id"]] = Future()
                self.protocol._result_types[payload["id"]] = self.protocol.get_result_type(payload["method"])
        self.send_raw(b"".join(message({"jsonrpc": "2.0", **payload}) for payload in messages))
        return futures

    def send_raw(self, data: bytes) -> None:
        """Bytes straight onto the server's stdin: for malformed messages."""
        self._server.stdin.write(data)

    def send_message(self, payload: dict) -> None:
        """One JSON-RPC message as written, past the client's checks (a request's answer is not awaited)."""
        self.send_raw(message(payload))


async def check_in_sync(editor: Editor) -> None:
    """The server's copy of the document, and the engine's, equal the editor's text and version."""
    state = await editor.client.document(editor.uri)
    assert state["text"] == editor.text
    assert state["version"] == editor.version
    assert state["engineInSync"] is True


async def eventually(probe, timeout: float = 30, interval: float = 0.05):
    """Poll ``probe()`` (plain or async) until it returns something truthy, and return that."""

    async def poll():
        while True:
            value = probe()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            await asyncio.sleep(interval)

    return await asyncio.wait_for(poll(), timeout)


def frame(body: bytes | str) -> bytes:
    """A body with its Content-Length header."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return b"Content-Length: %d\r\n\r\n" % len(data) + data


def message(payload: dict) -> bytes:
    return frame(json.dumps(payload))
