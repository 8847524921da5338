"""The LSP handlers: each turns protocol types into calls on ``KvCompleteServer`` and back, nothing more.

``create_server`` (server.py) registers every handler below on each server it makes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from kvcomplete.lsp_server.cancellation import SHUTDOWN
from kvcomplete.lsp_server.items import completion_list, inline_items
from kvcomplete.lsp_server.next_edits import NEXT_EDIT_FEEDBACK, NEXT_EDITS
from kvcomplete.lsp_server.workspace import folders_of

if TYPE_CHECKING:
    from kvcomplete.lsp_server.server import KvCompleteServer

STATS = "kvcomplete/stats"
DID_ACCEPT = "kvcomplete/didAccept"
DOCUMENT = "kvcomplete/document"

FEATURES: list[tuple[str, object, object]] = []


def feature(method: str, options: object = None):
    """Register the decorated function as the handler of ``method`` on every server ``create_server`` makes."""

    def register(handler):
        FEATURES.append((method, options, handler))
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


@feature(NEXT_EDITS)
async def next_edits(ls: KvCompleteServer, params: object) -> dict:
    """The proposals for the document's last edit: {uri, version, edits}, best first (docs/next-edits.md)."""
    document = getattr(params, "textDocument", None)
    return await ls.next_edits(getattr(document, "uri", None), getattr(params, "position", None))


@feature(NEXT_EDIT_FEEDBACK)
def next_edit_feedback(ls: KvCompleteServer, params: object) -> None:
    """The user accepted or dismissed a proposal: counted."""
    ls.next_edit_feedback(getattr(params, "uri", None), getattr(params, "action", None))
