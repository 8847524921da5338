"""Driving ``python -m lsp_server`` as an editor would: a pygls client over real stdio, an editor's view of a
document that sends each keystroke as a didChange, and raw message framing for malformed input."""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
from concurrent.futures import Future
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from tests.lsp_server.reference import units

ROOT = Path(__file__).resolve().parents[2]
SERVER_COMMAND = [sys.executable, "-m", "lsp_server"]


class LspClient(LanguageClient):
    """Spawns the server, records what it sends, and keeps its stderr for failure reports."""

    def __init__(self) -> None:
        super().__init__("kvcomplete-tests", "0")
        self.progress: list[object] = []
        self.log_messages: list[types.LogMessageParams] = []
        self.shown_messages: list[types.ShowMessageParams] = []
        self.configuration: dict | None = None
        self.configuration_asked = asyncio.Event()
        self.server_capabilities: types.ServerCapabilities | None = None
        self.stderr = bytearray()
        self._stderr_task: asyncio.Task | None = None

        @self.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def create_progress(params: types.WorkDoneProgressCreateParams) -> None:
            return None

        @self.feature(types.PROGRESS)
        def progress(params: types.ProgressParams) -> None:
            self.progress.append(params.value)

        @self.feature(types.WINDOW_LOG_MESSAGE)
        def log_message(params: types.LogMessageParams) -> None:
            self.log_messages.append(params)

        @self.feature(types.WINDOW_SHOW_MESSAGE)
        def show_message(params: types.ShowMessageParams) -> None:
            self.shown_messages.append(params)

        @self.feature(types.WORKSPACE_CONFIGURATION)
        def configuration(params: types.ConfigurationParams) -> list:
            self.configuration_asked.set()
            return [self.configuration for _ in params.items]

    async def start(self) -> None:
        await self.start_io(*SERVER_COMMAND, cwd=str(ROOT))
        self._stderr_task = asyncio.ensure_future(self._drain_stderr())

    async def _drain_stderr(self) -> None:
        while chunk := await self._server.stderr.read(65536):
            self.stderr.extend(chunk)

    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    async def initialize(self, options: dict, encodings: list[str] | None = None,
                         work_done_progress: bool = True) -> types.InitializeResult:
        capabilities = types.ClientCapabilities(
            general=types.GeneralClientCapabilities(position_encodings=encodings),
            window=types.WindowClientCapabilities(work_done_progress=work_done_progress),
            workspace=types.WorkspaceClientCapabilities(configuration=True),
            text_document=types.TextDocumentClientCapabilities(
                inline_completion=types.InlineCompletionClientCapabilities(),
            ),
        )
        result = await self.initialize_async(types.InitializeParams(
            capabilities=capabilities, process_id=None, root_uri=ROOT.as_uri(), initialization_options=options,
        ))
        self.initialized(types.InitializedParams())
        self.server_capabilities = result.capabilities
        return result

    def open(self, uri: str, text: str, version: int = 1, language_id: str = "python") -> None:
        self.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id=language_id, version=version, text=text)))

    def change(self, uri: str, version: int, changes: list[types.TextDocumentContentChangeEvent]) -> None:
        self.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=changes))

    @staticmethod
    def inline_params(uri: str, position: types.Position) -> types.InlineCompletionParams:
        return types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=position,
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic))

    def inline_message(self, uri: str, position: types.Position) -> dict:
        """A textDocument/inlineCompletion message without an id, as JSON, for ``send_together``."""
        params = self.protocol._converter.unstructure(self.inline_params(uri, position))
        return {"method": types.TEXT_DOCUMENT_INLINE_COMPLETION, "params": params}

    async def inline(self, uri: str, position: types.Position) -> list[types.InlineCompletionItem]:
        future = self.protocol.send_request(types.TEXT_DOCUMENT_INLINE_COMPLETION, self.inline_params(uri, position))
        result = await asyncio.wrap_future(future)
        return result if isinstance(result, list) else result.items

    def cancel(self, msg_id: str) -> None:
        self.cancel_request(types.CancelParams(id=msg_id))

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

    async def custom(self, method: str, params: dict | None = None):
        return await self.protocol.send_request_async(method, params or {})

    async def stats(self) -> dict:
        return _plain(await self.custom("kvcomplete/stats"))

    async def document(self, uri: str) -> dict | None:
        return _plain(await self.custom("kvcomplete/document", {"uri": uri}))

    def send_raw(self, data: bytes) -> None:
        """Bytes straight onto the server's stdin: for malformed messages."""
        self._server.stdin.write(data)

    async def stop_server(self, timeout: float = 30) -> int:
        """shutdown + exit; returns the server's exit code."""
        await self.shutdown_async(None)
        self.exit(None)
        code = await asyncio.wait_for(self._server.wait(), timeout)
        await self.stop()
        if self._stderr_task is not None:
            await self._stderr_task
        return code

    async def kill(self) -> None:
        if self._server is not None and self._server.returncode is None:
            self._server.kill()
            await self._server.wait()
        await self.stop()


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


class Editor:
    """The client's view of one document (lines end at "\\n"): text, cursor, version; sends each edit as a didChange."""

    def __init__(self, client: LspClient, uri: str, text: str, encoding: str = "utf-16") -> None:
        self.client, self.uri, self.text, self.encoding = client, uri, text, encoding
        self.cursor, self.version, self.changes_sent = len(text), 1, 0
        client.open(uri, text)

    def position(self, offset: int | None = None) -> types.Position:
        before = self.text[: self.cursor if offset is None else offset]
        line_start = before.rfind("\n") + 1
        return types.Position(line=before.count("\n"),
                              character=sum(units(char, self.encoding) for char in before[line_start:]))

    def replace(self, start: int, end: int, text: str) -> None:
        change = types.TextDocumentContentChangePartial(
            range=types.Range(start=self.position(start), end=self.position(end)), text=text)
        self.text = self.text[:start] + text + self.text[end:]
        self.cursor = start + len(text)
        self.version += 1
        self.changes_sent += 1
        self.client.change(self.uri, self.version, [change])

    def type(self, keys: str) -> None:
        """Each key a didChange; ``\\b`` deletes the character before the cursor."""
        for key in keys:
            if key == "\b":
                self.replace(self.cursor - 1, self.cursor, "")
            else:
                self.replace(self.cursor, self.cursor, key)

    async def check_in_sync(self) -> None:
        state = await self.client.document(self.uri)
        assert state["text"] == self.text
        assert state["version"] == self.version
        assert state["engineInSync"] is True


def frame(body: bytes | str) -> bytes:
    """A body with its Content-Length header."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return b"Content-Length: %d\r\n\r\n" % len(data) + data


def message(payload: dict) -> bytes:
    return frame(json.dumps(payload))


def _plain(value):
    """pygls hands back custom results as namedtuples: turn them into dicts and lists."""
    if hasattr(value, "_asdict"):
        return {key: _plain(item) for key, item in value._asdict().items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
