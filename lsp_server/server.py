"""The kvcomplete language server: pygls on uvloop, the state its handlers (``handlers.py``) share, and ``run``.

Each handler turns protocol types into calls on ``KvCompleteServer`` and back. The server keeps the
editor's texts (``editor_texts.py``), the live request of each document (``cancellation.py``), the counters
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
from kvcomplete.lsp_server import logs, next_edits
from kvcomplete.lsp_server.cancellation import CLIENT, CLOSED, SHUTDOWN, Tickets
from kvcomplete.lsp_server.editor_texts import Cursor, EditorTexts, PositionError
from kvcomplete.lsp_server.handlers import DID_ACCEPT, FEATURES
from kvcomplete.lsp_server.progress import LoadProgress
from kvcomplete.lsp_server.protocol import KvCompleteProtocol
from kvcomplete.lsp_server.refresh import SUGGESTIONS_CHANGED, Throttle
from kvcomplete.lsp_server.settings import SECTION, apply_options, options_in
from kvcomplete.lsp_server.stats import ServerStats
from kvcomplete.lsp_server.transport import loopback_address, serve_stdio, serve_tcp
from kvcomplete.lsp_server.worker import EngineWorker
from kvcomplete.lsp_server.workspace import WorkspaceFeeder

if TYPE_CHECKING:
    from kvcomplete.completion.engine import Completion

logger = logging.getLogger(__name__)
READY_WAIT_S = 30.0  # a request before the model is ready waits this long (a newer one supersedes it)


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

    def backend_changed(self, message: str, up: bool) -> None:
        """A remote backend went down or came back: shown once each time (the log has each error)."""
        kind = types.MessageType.Info if up else types.MessageType.Warning
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

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
        arrived = time.perf_counter()  # the latency budget counts from here, queueing included
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
            completion = await self.worker.complete(uri, cursor.offset, ticket, arrived)
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

    # -- next edits (docs/next-edits.md; the protocol's shapes: next_edits.py) ------------------------------
    def next_edits_ready(self, uri: str, text: str, proposals: list) -> None:
        """The engine found next edits after an edit: send them while the editor's text is still ``text``."""
        ready = next_edits.message(self.documents.get(uri), self.codec, uri, text, proposals)
        if ready is not None and ready["edits"]:
            self.protocol.notify(next_edits.NEXT_EDITS_READY, ready)

    async def next_edits(self, uri: object, position: object) -> dict:
        """{uri, version, edits} for the document's last edit; no edits without a document, a model or an edit.
        The engine computes what the background has not yet, within latencyBudgetMs (0: all of it)."""
        uri, at = next_edits.requested_position(uri, position)
        document = self.documents.get(uri)
        empty = {"uri": uri, "version": None if document is None else document.version, "edits": []}
        if document is None or self.worker is None or not self.worker.ready.is_set():
            return empty
        next_edits.check_position(document, at, self.codec)
        budget_ms = self.settings.latency_budget_ms or float("inf")
        answer = await self.worker.call(
            lambda engine: engine.next_edits.request(uri, budget_ms) if hasattr(engine, "next_edits") else None)
        return (answer is not None and next_edits.message(self.documents.get(uri), self.codec, uri, *answer)) or empty

    def next_edit_feedback(self, uri: object, action: object) -> None:
        if not isinstance(uri, str) or action not in ("accepted", "dismissed"):
            logger.warning("%s wants {uri, range, newText, action: accepted | dismissed}: ignored",
                           next_edits.NEXT_EDIT_FEEDBACK)
        elif self.worker is not None:
            self.worker.call(lambda engine: engine.next_edits.feedback(action) if hasattr(engine, "next_edits") else None)

    async def _model_ready(self) -> bool:
        if self.worker.ready.is_set():
            return True
        try:
            await asyncio.wait_for(self.worker.ready.wait(), READY_WAIT_S)
        except asyncio.TimeoutError:
            logger.info("the model is still loading: no completions yet")
            return False
        return True


def create_server(settings: Settings) -> KvCompleteServer:
    server = KvCompleteServer(settings)
    for method, options, handler in FEATURES:
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
