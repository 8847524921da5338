"""A client of the kvcomplete server that behaves as an editor: the demo and the latency benchmark replay
editing sessions with it, and the end-to-end tests drive the server with it. It lives in ``demo`` (the
product's editor side, above ``lsp_server``), not in the server's package: the server never imports it.

``LspClient`` spawns the server (any command line, over stdio), answers what a server may ask of an editor
(work-done progress, configuration), keeps what the server reports (progress, log and shown messages, its
stderr), hands ``kvcomplete/suggestionsChanged`` to ``on_suggestions_changed`` (the editor decides whether
to ask again) and wraps the requests an editor sends. ``Editor`` is an editor's view of one document: text, cursor
and version, every edit sent as an incremental didChange with positions in the negotiated encoding.
"""

from __future__ import annotations

import asyncio
from typing import Callable, Sequence

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from kvcomplete.lsp_server.handlers import DID_ACCEPT, DOCUMENT, STATS
from kvcomplete.lsp_server.refresh import SUGGESTIONS_CHANGED


def units(char: str, encoding: str) -> int:
    """How many code units ``char`` takes in an LSP position encoding (utf-8, utf-16 or utf-32)."""
    return {"utf-8": len(char.encode("utf-8")), "utf-16": len(char.encode("utf-16-le")) // 2, "utf-32": 1}[encoding]


class LspClient(LanguageClient):
    """Spawns the server, records what it sends, and keeps its stderr for error reports."""

    def __init__(self, name: str = "kvcomplete-client") -> None:
        super().__init__(name, "0")
        self.progress: list[object] = []
        self.log_messages: list[types.LogMessageParams] = []
        self.shown_messages: list[types.ShowMessageParams] = []
        self.configuration: dict | None = None  # the answer to workspace/configuration
        self.configuration_asked = asyncio.Event()
        self.server_capabilities: types.ServerCapabilities | None = None
        self.stderr = bytearray()
        self._stderr_task: asyncio.Task | None = None
        # Called with the params of each kvcomplete/suggestionsChanged as a dict {uri, version, position}.
        self.on_suggestions_changed: Callable[[dict], None] = lambda params: None

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

        @self.feature(SUGGESTIONS_CHANGED)
        def suggestions_changed(params) -> None:
            self.on_suggestions_changed(plain(params))

        @self.feature(types.WORKSPACE_CONFIGURATION)
        def configuration(params: types.ConfigurationParams) -> list:
            self.configuration_asked.set()
            return [self.configuration for _ in params.items]

    async def start(self, command: Sequence[str], cwd: str | None = None) -> None:
        """Run ``command`` (the server) and speak LSP over its stdin and stdout."""
        await self.start_io(*command, cwd=cwd)
        self._stderr_task = asyncio.ensure_future(self._drain_stderr())

    async def _drain_stderr(self) -> None:
        while chunk := await self._server.stderr.read(65536):
            self.stderr.extend(chunk)

    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    async def initialize(self, options: dict | None, encodings: list[str] | None = None,
                         work_done_progress: bool = True, root_uri: str | None = None) -> types.InitializeResult:
        """``initialize`` with ``options`` as initializationOptions, then ``initialized``."""
        capabilities = types.ClientCapabilities(
            general=types.GeneralClientCapabilities(position_encodings=encodings),
            window=types.WindowClientCapabilities(work_done_progress=work_done_progress),
            workspace=types.WorkspaceClientCapabilities(configuration=True),
            text_document=types.TextDocumentClientCapabilities(
                inline_completion=types.InlineCompletionClientCapabilities(),
            ),
        )
        result = await self.initialize_async(types.InitializeParams(
            capabilities=capabilities, process_id=None, root_uri=root_uri, initialization_options=options,
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

    def send_inline(self, uri: str, position: types.Position, msg_id: str) -> asyncio.Future:
        """Send an inline completion request with id ``msg_id`` (for ``cancel``); the future gets its items,
        or JsonRpcException with code RequestCancelled once the server cancelled it."""
        future = self.protocol.send_request(types.TEXT_DOCUMENT_INLINE_COMPLETION, self.inline_params(uri, position),
                                            msg_id=msg_id)
        return asyncio.wrap_future(future)

    async def inline(self, uri: str, position: types.Position) -> list[types.InlineCompletionItem]:
        future = self.protocol.send_request(types.TEXT_DOCUMENT_INLINE_COMPLETION, self.inline_params(uri, position))
        return items_of(await asyncio.wrap_future(future))

    def cancel(self, msg_id: str) -> None:
        self.cancel_request(types.CancelParams(id=msg_id))

    def did_accept(self, uri: str, item: int, accepted_text: str) -> None:
        """Tell the server the user accepted ``accepted_text`` of item ``item``; the didChange follows."""
        self.protocol.notify(DID_ACCEPT, {"uri": uri, "item": item, "acceptedText": accepted_text})

    async def custom(self, method: str, params: dict | None = None):
        return await self.protocol.send_request_async(method, params or {})

    async def stats(self) -> dict:
        return plain(await self.custom(STATS))

    async def document(self, uri: str) -> dict | None:
        return plain(await self.custom(DOCUMENT, {"uri": uri}))

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
        """Replace ``text[start:end]`` and put the cursor after the new text."""
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


def items_of(result) -> list[types.InlineCompletionItem]:
    """The items of an inline completion result (a list, or an InlineCompletionList)."""
    return result if isinstance(result, list) else result.items


def plain(value):
    """pygls hands back custom results as namedtuples: turn them into dicts and lists."""
    if hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
