"""The workspace on the server's side: the folders from ``initialize``, their index fed to the engine's drafters,
watched files and saves that keep it current, and its progress.

The index (``completion/prompt/workspace.py``) runs on its own thread and tokenizes there, with a tokenizer object of
its own; the engine thread only stores the tokens, at most 8,192 at a time (the index waits for each batch), so
a completion waits behind one batch's worth of work at most (~30 ms). The index starts once a model is loaded
(tokens are the model's) and starts again when a new one is.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from kvcomplete.completion.config import Settings
from kvcomplete.completion.prompt.workspace import (
    Limits,
    Pieces,
    Tokenize,
    WorkspaceIndex,
    feed_drafters,
    index_tokenizer,
)
from kvcomplete.lsp_server.progress import LoadProgress

logger = logging.getLogger(__name__)
TITLE = "kvcomplete: indexing the workspace"
WATCHER_ID = "kvcomplete-watched-files"
FEED_TIMEOUT_S = 60.0  # a file's tokens not taken by then (the engine is gone): the index stops


def folders_of(params: types.InitializeParams) -> list[Path]:
    """The workspace folders' paths (every ``workspaceFolders`` entry, else ``rootUri``), file URIs only."""
    uris = [folder.uri for folder in params.workspace_folders or []]
    if not uris and params.root_uri:
        uris = [params.root_uri]
    paths = [to_fs_path(uri) for uri in uris if uri.startswith("file:")]
    return [Path(path) for path in paths if path and Path(path).is_dir()]


class WorkspaceFeeder:
    """The index of the workspace folders, started once a model is ready, feeding the engine's drafters."""

    def __init__(self, server) -> None:
        self._server = server
        self.folders: list[Path] = []
        self.index: WorkspaceIndex | None = None
        self.progress = LoadProgress(server, TITLE)
        self._starting: asyncio.Task | None = None
        self._tokenize: Tokenize | None = None  # the latest model's, as the index will have it

    def client_ready(self, capabilities: types.ClientCapabilities) -> None:
        """Show progress if the client can, and ask for file events when it can register watchers dynamically."""
        window, workspace = capabilities.window, capabilities.workspace
        self.progress.client_ready(bool(window and window.work_done_progress))
        watched = workspace.did_change_watched_files if workspace else None
        if self.folders and watched is not None and watched.dynamic_registration:
            asyncio.ensure_future(self._register_watcher())

    async def _register_watcher(self) -> None:
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern="**/*")])
        try:
            await self._server.client_register_capability_async(types.RegistrationParams(registrations=[
                types.Registration(id=WATCHER_ID, method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                                   register_options=options)]))
        except Exception as error:  # the index then follows saves only
            logger.info("no file watcher: %s", error)

    def model_ready(self) -> None:
        """Index with the new model's tokens (on the event loop): a first index, or the same one again."""
        if self.folders:
            self._starting = asyncio.ensure_future(self._start())

    async def _start(self) -> None:
        tokenize = await self._server.worker.call(lambda engine: index_tokenizer(engine.vocab.tokenizer))
        if tokenize is None:  # no model after all
            return
        self._tokenize, limits = tokenize, Limits.of(self._server.settings)
        if self.index is not None:
            self.index.reset(limits, tokenize)
            return
        loop = asyncio.get_running_loop()
        self.index = WorkspaceIndex(self.folders, limits, tokenize, lambda pieces: self._feed(loop, pieces),
                                    lambda done, total: loop.call_soon_threadsafe(self._report, done, total))
        self.index.start()
        index = self.index
        await self._server.worker.call(lambda engine: engine.use_workspace(index.roots, index.files))
        logger.info("indexing %s", ", ".join(str(folder) for folder in self.folders))

    def _feed(self, loop: asyncio.AbstractEventLoop, pieces: Pieces) -> None:
        """On the index thread: give the pieces to the engine thread and wait until they are stored."""
        async def feed() -> None:
            await self._server.worker.call(lambda engine: feed_drafters(engine, pieces))

        asyncio.run_coroutine_threadsafe(feed(), loop).result(FEED_TIMEOUT_S)

    def _report(self, done: int, total: int) -> None:
        if done == 1:
            self.progress.started()
        self.progress.report(f"{done}/{total} files", done / total)
        if done == total:
            self.progress.finished(f"{total} files")

    def reconfigure(self, previous: Settings, settings: Settings) -> None:
        """New limits: index again within them (``indexMaxFiles`` 0 empties the index)."""
        if self.index is not None and Limits.of(previous) != Limits.of(settings):
            self.index.reset(Limits.of(settings), self._tokenize)

    def changed(self, uri: str) -> None:
        """A file was created, changed, deleted or saved."""
        path = to_fs_path(uri) if uri.startswith("file:") else None
        if self.index is not None and path:
            self.index.update(Path(path))

    def stats(self) -> dict[str, int]:
        return self.index.stats() if self.index is not None else {"indexedFiles": 0, "indexedTokens": 0,
                                                                   "indexedBytes": 0}

    def stop(self) -> None:
        if self._starting is not None:
            self._starting.cancel()
        if self.index is not None:
            self.index.stop()
            self.index = None
