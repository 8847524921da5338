"""The local model while the backend is down (``backendFallback``), for a RemoteEngine.

It is loaded in a thread at the backend's first failure, so that no request waits for the weights (requests
answer empty meanwhile, as without a fallback), then handed the open documents as they are and kept in step
with their edits, on the engine's thread, from then on. It stays loaded once the backend is back, ready for
its next failure. Off by default: the weights are what a remote backend otherwise spares the workstation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from kvcomplete.completion.config import Settings
from kvcomplete.completion.open_documents import OpenDocument
from kvcomplete.completion.text.mirror import TextChange

if TYPE_CHECKING:
    from kvcomplete.completion.engine import Engine

logger = logging.getLogger(__name__)
Workspace = tuple[list[Path], Callable] | None  # a ContextSelector's workspace: (roots, files) or none


def load_engine(settings: Settings) -> Engine:
    from kvcomplete.completion.engine import Engine  # torch: imported only when a fallback is wanted

    return Engine(settings.replace(backend="local"))


class LocalFallback:
    def __init__(self, settings: Settings, on_suggestions_changed: Callable[[str, int], None],
                 load: Callable[[Settings], Engine] = load_engine) -> None:
        """``on_suggestions_changed``: the RemoteEngine's callback, which the local engine's background decoding
        calls; ``load`` makes the local engine (in a thread)."""
        self.settings, self.on_suggestions_changed, self.load = settings, on_suggestions_changed, load
        self.engine: Engine | None = None  # once loaded and handed the documents
        self.error: str | None = None  # why it could not be loaded (it is not tried again)
        self._loading: Future | None = None

    def ready(self, documents: Iterable[OpenDocument], workspace: Workspace) -> Engine | None:
        """The local engine if backendFallback is on and it is loaded (the first call after the load hands it
        ``documents`` and ``workspace``); the first call starts loading it."""
        if self.engine is None and self.error is None and self.settings.backend_fallback:
            if self._loading is None:
                logger.info("loading the local model, to answer while the backend is down")
                loader = ThreadPoolExecutor(1, "kvcomplete-fallback")
                self._loading = loader.submit(self.load, self.settings)
                loader.shutdown(wait=False)  # its thread ends with the load
            elif self._loading.done():
                self._adopt(documents, workspace)
        return self.engine

    def _adopt(self, documents: Iterable[OpenDocument], workspace: Workspace) -> None:
        try:
            engine = self._loading.result()
        except Exception as error:  # noqa: BLE001 - any failed load is said once; requests then answer empty
            self.error = f"{type(error).__name__}: {error}"
            logger.error("no local fallback: %s", self.error)
            return
        if workspace is not None:
            engine.use_workspace(*workspace)
        for doc in documents:
            engine.open(doc.uri, doc.text, doc.language)
        engine.on_suggestions_changed = self.on_suggestions_changed
        self.engine = engine
        logger.info("the local model answers while the backend is down")

    def background_step(self) -> bool:
        """The local engine's idle work, once it is loaded."""
        return self.engine is not None and self.engine.background_step()

    def status(self) -> str:
        """For ``kvcomplete/stats``: off (not needed so far, or not enabled), loading, ready, or failed: why."""
        if self.error is not None:
            return f"failed: {self.error}"
        return "ready" if self.engine is not None else "loading" if self._loading is not None else "off"

    def reconfigured(self, settings: Settings) -> LocalFallback:
        """The fallback under new settings: this one (its engine reconfigured) unless the switch or the model
        changed, then a fresh one (loaded again when needed)."""
        if (settings.backend_fallback, settings.model) != (self.settings.backend_fallback, self.settings.model):
            return LocalFallback(settings, self.on_suggestions_changed, self.load)
        self.settings = settings
        if self.engine is not None:
            self.engine.reconfigure(settings.replace(backend="local"))
        return self

    # -- kept in step with the RemoteEngine's documents, once loaded -----------------------------------
    def open(self, uri: str, text: str, language: str | None) -> None:
        if self.engine is not None:
            self.engine.open(uri, text, language)

    def change(self, uri: str, changes: Sequence[TextChange]) -> None:
        if self.engine is not None:
            self.engine.change(uri, changes)

    def close(self, uri: str) -> None:
        if self.engine is not None:
            self.engine.close(uri)

    def accept(self, uri: str, accepted_text: str) -> None:
        if self.engine is not None:
            self.engine.accept(uri, accepted_text)

    def use_workspace(self, roots: Sequence[Path], files: Callable | None) -> None:
        if self.engine is not None:
            self.engine.use_workspace(roots, files)
