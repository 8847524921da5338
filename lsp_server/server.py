"""The kvcomplete language server: pygls on uvloop, thin handlers over documents, the engine thread and stats.

Each handler turns protocol types into calls on ``KvCompleteServer`` and back. The server keeps the
documents (``documents.py``), the live request of each document (``cancellation.py``), the counters
(``stats.py``), the engine thread (``worker.py``) and the workspace index (``workspace.py``: the only files it
reads; documents come from the client).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import time
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.exceptions import FeatureRequestError, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.workspace.position_codec import PositionCodec

from kvcomplete.completion.config import Settings
from kvcomplete.lsp_server import logs
from kvcomplete.lsp_server.cancellation import CLIENT, CLOSED, SHUTDOWN, Tickets
from kvcomplete.lsp_server.editor_texts import Cursor, EditorTexts, PositionError
from kvcomplete.lsp_server.items import completion_list, inline_items
from kvcomplete.lsp_server.progress import LoadProgress
from kvcomplete.lsp_server.protocol import KvCompleteProtocol
from kvcomplete.lsp_server.refresh import SUGGESTIONS_CHANGED, Throttle
from kvcomplete.lsp_server.settings import SECTION, apply_options, options_in
from kvcomplete.lsp_server.stats import ServerStats
from kvcomplete.lsp_server.transport import loopback_address, serve_stdio, serve_tcp
from kvcomplete.lsp_server.worker import EngineWorker
from kvcomplete.lsp_server.workspace import WorkspaceFeeder, folders_of

if TYPE_CHECKING:
    from kvcomplete.completion.engine import Completion

logger = logging.getLogger(__name__)
READY_WAIT_S = 30.0  # a request before the model is ready waits this long (a newer one supersedes it)
STATS = "kvcomplete/stats"
DID_ACCEPT = "kvcomplete/didAccept"
DOCUMENT = "kvcomplete/document"


def _version() -> str:
    try:
        return importlib.metadata.version("kvcomplete")
    except importlib.metadata.PackageNotFoundError:
        return "dev"


class KvCompleteServer(LanguageServer):
    """The pygls server and the state its handlers share."""

    def __init__(self, settings: Settings) -> None:
        super().__init__("kvcomplete", _version(), protocol_cls=KvCompleteProtocol)
        self.command_line_settings = settings
        self.initial_settings = settings  # the command line's, then initializationOptions over them
        self.settings = settings
        self.documents = EditorTexts()
        self.tickets = Tickets()
        self.stats = ServerStats()
        self.loading = LoadProgress(self)
        self.workspace_index = WorkspaceFeeder(self)
        self.worker: EngineWorker | None = None
        self.refresh: Throttle | None = None
        self.shutdown_requested = False
        self._client_log: logs.ClientLogHandler | None = None
        self._reasons_logged: set[tuple[str, str]] = set()

    @property
    def codec(self) -> PositionCodec:
        """Converts columns in the negotiated position encoding."""
        return self.workspace.position_codec

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self, initialization_options: object) -> None:
        """Settings from initializationOptions; start the engine thread, which loads the model."""
        loop = asyncio.get_running_loop()
        self._client_log = logs.ClientLogHandler(self.window_log_message, loop)
        self._client_log.attach()
        self.initial_settings, problems = apply_options(self.command_line_settings,
                                                        options_in(initialization_options) or {})
        self._adopt(self.initial_settings, problems)
        self.refresh = Throttle(self._send_suggestions_changed, loop)
        self.worker = EngineWorker(loop, self)
        self.worker.start(self.settings)

    def stop(self) -> None:
        self.tickets.cancel_all(SHUTDOWN)
        self.workspace_index.stop()
        if self.worker is not None:
            self.worker.stop()
        if self._client_log is not None:
            self._client_log.detach()

    def report_server_error(self, error: Exception, source) -> None:
        """Log it, without the pop-up pygls shows; a failed request was already answered with its error."""
        if source is not FeatureRequestError:
            logger.warning("%s: %s", source.__name__, error)

    # -- events from the engine thread -----------------------------------------------------------------
    def load_started(self) -> None:
        logger.info("loading %s", self.settings.model or "the default model")
        self.loading.started()

    def load_progress(self, message: str, fraction: float | None) -> None:
        self.loading.report(message, fraction)

    def load_finished(self, info: dict | None, error: str | None) -> None:
        if error is not None:
            self.loading.finished("failed")
            logger.error("no model: %s", error)
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error,
                                                             message=f"kvcomplete: {error}"))
        else:
            self.loading.finished("ready")
            logger.info("model ready: %s", info)
            self.workspace_index.model_ready()

    def suggestions_changed(self, uri: str, offset: int) -> None:
        """Background decoding extended the suggestions at ``offset`` of ``uri``: tell the editor (throttled)."""
        self.refresh.changed(uri, offset)

    def _send_suggestions_changed(self, uri: str, offset: int) -> None:
        document = self.documents.get(uri)
        position = document.position_of(offset, self.codec) if document is not None else None
        if position is not None:
            self.protocol.notify(SUGGESTIONS_CHANGED, {"uri": uri, "version": document.version,
                                                       "position": {"line": position.line,
                                                                    "character": position.character}})

    # -- settings --------------------------------------------------------------------------------------
    async def configure(self, value: object) -> None:
        """New options from didChangeConfiguration, or pulled from the client when it sent none."""
        options = options_in(value)
        workspace = self.client_capabilities.workspace
        if options is None and workspace is not None and workspace.configuration:
            pulled = await self.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)]))
            options = options_in(pulled[0] if pulled else None)
        if options is not None:
            self._adopt(*apply_options(self.initial_settings, options))

    def _adopt(self, settings: Settings, problems: list[str]) -> None:
        for problem in problems:
            logger.warning("%s", problem)
        logs.set_level(settings.log_level)
        if self.worker is not None and settings != self.settings:
            snapshot = [(document.uri, document.text, document.language_id) for document in self.documents]
            self.worker.reconfigure(settings, snapshot)
        previous, self.settings = self.settings, settings
        self.workspace_index.reconfigure(previous, settings)

    # -- documents -------------------------------------------------------------------------------------
    def open(self, item: types.TextDocumentItem) -> None:
        document = self.documents.open(item)
        self.worker.open(document.uri, item.text, document.language_id)

    def change(self, identifier: types.VersionedTextDocumentIdentifier,
               changes: list[types.TextDocumentContentChangeEvent]) -> None:
        """Apply edits to the server's copy at once and queue them for the engine; stale versions are refused."""
        document = self.documents.get(identifier.uri)
        if document is None:
            logger.warning("didChange for %s, which is not open: ignored", identifier.uri)
            return
        if document.version is not None and identifier.version <= document.version:
            logger.warning("didChange for %s has version %d, not after %d: ignored",
                           identifier.uri, identifier.version, document.version)
            return
        edits = [document.apply(change, self.codec) for change in changes]
        document.version = identifier.version
        self.worker.change(document.uri, edits)

    def close(self, uri: str) -> None:
        self.tickets.cancel(uri, CLOSED)
        if self.refresh is not None:
            self.refresh.forget(uri)
        if self.documents.close(uri) is not None:
            self.worker.close(uri)
        self._reasons_logged = {logged for logged in self._reasons_logged if logged[0] != uri}

    def accept(self, uri: object, accepted_text: object) -> None:
        if not isinstance(uri, str) or not isinstance(accepted_text, str):
            logger.warning("%s wants {uri, item, acceptedText}: ignored", DID_ACCEPT)
        elif uri not in self.documents:
            logger.warning("%s for %s, which is not open: ignored", DID_ACCEPT, uri)
        else:
            self.worker.accept(uri, accepted_text)

    # -- completion ------------------------------------------------------------------------------------
    async def complete(self, uri: str, position: types.Position) -> tuple[Completion, Cursor] | None:
        """The engine's suggestions at ``position`` (None: no document, no model yet, or nothing to say).

        A newer request on the same document, ``$/cancelRequest`` or closing the document cancels it; it
        then raises CancelledError, which pygls answers with RequestCancelled.
        """
        document = self.documents.get(uri)
        if document is None:
            logger.debug("completion asked in %s, which is not open", uri)
            return None
        try:
            cursor = document.cursor(position, self.codec)
        except PositionError as error:
            raise JsonRpcInvalidParams(str(error)) from None
        ticket = self.tickets.issue(uri)
        try:
            if not await self._model_ready():
                return None
            started = time.perf_counter()
            completion = await self.worker.complete(uri, cursor.offset, ticket)
        except asyncio.CancelledError:  # $/cancelRequest, or the ticket was cancelled and the engine stopped
            ticket.cancel(CLIENT)
            raise
        finally:
            self.tickets.finish(ticket)
        if completion is None:
            return None
        self.stats.answered((time.perf_counter() - started) * 1000)
        if completion.reason and (uri, completion.reason) not in self._reasons_logged:
            self._reasons_logged.add((uri, completion.reason))
            logger.info("no completions in %s: %s", uri, completion.reason)
        return completion, cursor

    async def _model_ready(self) -> bool:
        if self.worker.ready.is_set():
            return True
        try:
            await asyncio.wait_for(self.worker.ready.wait(), READY_WAIT_S)
        except asyncio.TimeoutError:
            logger.info("the model is still loading: no completions yet")
            return False
        return True


_FEATURES: list[tuple[str, object, object]] = []


def feature(method: str, options: object = None):
    """Register the decorated function as the handler of ``method`` on every server ``create_server`` makes."""

    def register(handler):
        _FEATURES.append((method, options, handler))
        return handler

    return register


@feature(types.INITIALIZE)
def initialize(ls: KvCompleteServer, params: types.InitializeParams) -> None:
    """Read initializationOptions and the workspace folders, and start loading the model (capabilities are
    pygls' to compute); the folders are indexed once the model is ready."""
    ls.workspace_index.folders = folders_of(params)
    ls.start(params.initialization_options)


@feature(types.INITIALIZED)
def initialized(ls: KvCompleteServer, params: types.InitializedParams) -> None:
    """From now on the model load and the index can show progress, if the client supports it; the index asks
    for file events."""
    window = ls.client_capabilities.window
    ls.loading.client_ready(bool(window and window.work_done_progress))
    ls.workspace_index.client_ready(ls.client_capabilities)


@feature(types.SHUTDOWN)
def shutdown(ls: KvCompleteServer, params: None) -> None:
    """Stop the completions under way; ``exit`` follows."""
    ls.shutdown_requested = True
    ls.tickets.cancel_all(SHUTDOWN)


@feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: KvCompleteServer, params: types.DidOpenTextDocumentParams) -> None:
    """Track the document and give it to the engine."""
    ls.open(params.text_document)


@feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: KvCompleteServer, params: types.DidChangeTextDocumentParams) -> None:
    """Apply the edits; the engine gets them before its next completion."""
    ls.change(params.text_document, params.content_changes)


@feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: KvCompleteServer, params: types.DidCloseTextDocumentParams) -> None:
    """Forget the document and cancel its completion under way."""
    ls.close(params.text_document.uri)


@feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: KvCompleteServer, params: types.DidSaveTextDocumentParams) -> None:
    """The file on disk changed: the workspace index reads it again."""
    ls.workspace_index.changed(params.text_document.uri)


@feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(ls: KvCompleteServer, params: types.DidChangeWatchedFilesParams) -> None:
    """Files created, changed or deleted in the workspace: the index follows."""
    for change in params.changes:
        ls.workspace_index.changed(change.uri)


@feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
async def inline_completion(ls: KvCompleteServer,
                            params: types.InlineCompletionParams) -> list[types.InlineCompletionItem]:
    """Up to k distinct suggestions, each inserted at the cursor."""
    answer = await ls.complete(params.text_document.uri, params.position)
    if answer is None:
        return []
    completion, cursor = answer
    return inline_items(completion, ls.settings.suggestions, cursor)


@feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions())
async def completion_items(ls: KvCompleteServer, params: types.CompletionParams) -> types.CompletionList:
    """The suggestions as completion items, for clients without inline completion."""
    answer = await ls.complete(params.text_document.uri, params.position)
    if answer is None:
        return types.CompletionList(is_incomplete=True, items=[])
    completion, cursor = answer
    return completion_list(completion, ls.settings.suggestions, cursor, ls.codec)


@feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(ls: KvCompleteServer, params: types.DidChangeConfigurationParams) -> None:
    """Apply the new options over the initial ones; a new model loads in the background."""
    await ls.configure(params.settings)


@feature(STATS)
async def server_stats(ls: KvCompleteServer, params: object) -> dict:
    """The server's counts and the engine's since the server started, the model in use (null while none is
    loaded: editors show model and device from it) and the workspace index's size."""
    engine_stats = await ls.worker.call(lambda engine: {**engine.stats(), "model": engine.info})
    return ls.stats.report({**(engine_stats or {}), **ls.workspace_index.stats()})


# Params of custom methods arrive as pygls namedtuples (or anything else the client sent): fields by getattr.
@feature(DID_ACCEPT)
def did_accept(ls: KvCompleteServer, params: object) -> None:
    """The user accepted all or part of a suggestion: the engine records it."""
    ls.accept(getattr(params, "uri", None), getattr(params, "acceptedText", None))


@feature(DOCUMENT)
async def document_state(ls: KvCompleteServer, params: object) -> dict | None:
    """For checks: the server's copy of a document and whether the engine's text equals it."""
    uri = getattr(params, "uri", None)
    tracked = ls.documents.get(uri) if isinstance(uri, str) else None
    if tracked is None:
        return None
    text, version = tracked.text, tracked.version
    engine_text = await ls.worker.call(lambda engine: engine.text(uri))
    return {"uri": uri, "version": version, "text": text,
            "engineInSync": None if engine_text is None else engine_text == text}


def create_server(settings: Settings) -> KvCompleteServer:
    server = KvCompleteServer(settings)
    for method, options, handler in _FEATURES:
        server.feature(method, options)(handler)
    return server


def _run_loop(main) -> None:
    try:
        import uvloop
    except ImportError:  # Windows: no uvloop
        asyncio.run(main)
    else:
        uvloop.run(main)


def run(settings: Settings, tcp: str | None = None) -> int:
    """Serve LSP over stdio, or to one client on a loopback ``HOST:PORT``; returns the exit code."""
    logs.configure(settings.log_level)
    try:
        address = loopback_address(tcp) if tcp else None
    except ValueError as error:
        logger.error("%s", error)
        return 2
    server = create_server(settings)
    try:
        _run_loop(serve_tcp(server.protocol, *address) if address else serve_stdio(server.protocol))
    except SystemExit as exit_:  # the `exit` notification: 0 after `shutdown`, else 1
        return exit_.code if isinstance(exit_.code, int) else 1
    except KeyboardInterrupt:
        return 130
    finally:
        server.stop()
    return 0 if server.shutdown_requested else 1
