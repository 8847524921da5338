"""The engine thread: the one thread that owns the Engine and runs every call on it, in submission order.

The event loop only enqueues jobs and awaits futures, so it never blocks on the model. Whenever no job is
queued, the thread does the engine's background work (encoding a newly opened window, refreshing stale
tokens, carrying on a decoding cut at the latency budget) one small step at a time, so any job waits for
one step at most. Consecutive
didChange edits of one document that are still queued are coalesced into one ``Engine.change`` call, so
the engine updates its KV cache once before the next completion. The model loads as the first job, and
``completion.engine`` (torch, transformers: seconds) is imported there too, so ``initialize`` is answered
at once. A document opened while no model is loaded is opened again when one loads.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import queue
import sys
import threading
from typing import TYPE_CHECKING, Callable, Protocol, TypeVar

from kvcomplete.completion.config import Settings
from kvcomplete.completion.model.spec import ModelError
from kvcomplete.completion.text.mirror import TextChange

if TYPE_CHECKING:
    from kvcomplete.completion.engine import Completion, Engine

logger = logging.getLogger(__name__)
T = TypeVar("T")


class WorkerEvents(Protocol):
    """What the worker tells the server, on the event loop: model loading started, progressed, ended;
    suggestions grew; next edits are ready; a remote backend went down or came back."""

    def load_started(self) -> None: ...

    def load_progress(self, message: str, fraction: float | None) -> None: ...

    def load_finished(self, info: dict | None, error: str | None) -> None: ...

    def suggestions_changed(self, uri: str, offset: int) -> None: ...

    def next_edits_ready(self, uri: str, text: str, proposals: list) -> None: ...

    def backend_changed(self, message: str, up: bool) -> None: ...


class EngineWorker:
    """Runs ``Engine`` calls on one thread; results come back as asyncio futures."""

    def __init__(self, loop: asyncio.AbstractEventLoop, events: WorkerEvents,
                 engine_factory: Callable[..., Engine] | None = None) -> None:
        self._loop = loop
        self._events = events
        self._engine_factory = engine_factory
        self._engine: Engine | None = None
        self._settings: Settings | None = None
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._batches: dict[str, list[TextChange]] = {}  # per document: queued edits not yet taken
        self._batches_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="kvcomplete-engine", daemon=True)
        self.ready = asyncio.Event()  # clear while a model loads (requests then wait a bounded time)

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self, settings: Settings) -> None:
        """Start the thread; loading the model is its first job."""
        self._jobs.put(lambda: self._load(settings, []))
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread after the jobs already queued (cancel running completions first)."""
        self._jobs.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def reconfigure(self, settings: Settings, documents: list[tuple[str, str, str | None]]) -> None:
        """Apply new settings; ``documents`` (uri, text, language) are reopened if a new engine is made."""
        with self._batches_lock:  # the documents as given include every edit queued so far
            self._batches.clear()
        self._jobs.put(lambda: self._reconfigure(settings, documents))

    # -- documents -------------------------------------------------------------------------------------
    def open(self, uri: str, text: str, language_id: str | None) -> None:
        self._seal(uri)
        self._post(f"open {uri}", lambda engine: engine.open(uri, text, language_id))

    def change(self, uri: str, changes: list[TextChange]) -> None:
        """Queue edits; joins the edits of the same document already queued and not yet taken."""
        with self._batches_lock:
            batch = self._batches.get(uri)
            if batch is not None:
                batch.extend(changes)
                return
            batch = self._batches[uri] = list(changes)
        self._post(f"edit {uri}", lambda engine: self._apply_batch(engine, uri, batch))

    def close(self, uri: str) -> None:
        self._seal(uri)
        self._post(f"close {uri}", lambda engine: engine.close(uri))

    def accept(self, uri: str, accepted_text: str) -> None:
        self._seal(uri)
        self._post(f"record an accept in {uri}", lambda engine: engine.accept(uri, accepted_text))

    # -- requests --------------------------------------------------------------------------------------
    def complete(self, uri: str, offset: int, cancelled: Callable[[], bool],
                 arrived: float | None = None) -> asyncio.Future[Completion | None]:
        """Suggestions at ``offset`` (None without a model), within the latency budget counted from ``arrived``
        (perf_counter seconds); the future is cancelled once ``cancelled()`` is."""
        self._seal(uri)
        return self.call(lambda engine: engine.complete(uri, offset, cancelled=cancelled, arrived=arrived,
                                                        budget_ms=engine.settings.latency_budget_ms), cancelled)

    def call(self, work: Callable[[Engine], T],
             cancelled: Callable[[], bool] = lambda: False) -> asyncio.Future[T | None]:
        """Run ``work(engine)`` on the thread after the jobs already queued (None without a model).

        Once ``cancelled()`` is true the work is skipped, or whatever it ends with (the engine raises
        Cancelled at its next step boundary) becomes a cancelled future.
        """
        future = self._loop.create_future()

        def job() -> None:
            if cancelled():
                self._settle(future, cancel=True)
                return
            try:
                result = None if self._engine is None else work(self._engine)
            except Exception as error:
                self._settle(future, error=error, cancel=cancelled())
            else:
                self._settle(future, result=result)

        self._jobs.put(job)
        return future

    # -- on the engine thread --------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                if self._background_step():
                    continue
                job = self._jobs.get()
            if job is None:
                return
            job()

    def _background_step(self) -> bool:
        """One step of the engine's idle-time work; False when there is none (or it failed: logged)."""
        if self._engine is None:
            return False
        try:
            return self._engine.background_step()
        except Exception as error:  # a bug here must not stop the thread that answers every request
            logger.warning("background work failed: %s", error, exc_info=True)
            return False

    def _post(self, what: str, action: Callable[[Engine], object]) -> None:
        """Queue ``action(engine)``, awaited by nobody: skipped without a model, a failure is logged."""

        def job() -> None:
            if self._engine is None:
                return
            try:
                action(self._engine)
            except Exception as error:
                logger.warning("could not %s: %s", what, error)

        self._jobs.put(job)

    def _seal(self, uri: str) -> None:
        """Later edits of ``uri`` must not join edits queued before the job about to be queued."""
        with self._batches_lock:
            self._batches.pop(uri, None)

    def _apply_batch(self, engine: Engine, uri: str, batch: list[TextChange]) -> None:
        with self._batches_lock:
            if self._batches.get(uri) is batch:
                del self._batches[uri]
        engine.change(uri, batch)

    def _load(self, settings: Settings, documents: list[tuple[str, str, str | None]]) -> None:
        self._start_load()
        try:
            engine_factory = self._engine_factory or self._import_engine(settings)
            engine = engine_factory(settings, progress=self._report_progress)
            for uri, text, language_id in documents:
                engine.open(uri, text, language_id)
        except Exception as error:
            self._finish_load(None, _user_message(error))
            return
        engine.on_suggestions_changed = lambda uri, offset: self._notify(self._events.suggestions_changed, uri, offset)
        engine.on_next_edits_ready = lambda *ready: self._notify(self._events.next_edits_ready, *ready)
        engine.on_backend_changed = lambda message, up: self._notify(self._events.backend_changed, message, up)
        self._engine, self._settings = engine, settings
        self._finish_load(engine.info, None)

    def _reconfigure(self, settings: Settings, documents: list[tuple[str, str, str | None]]) -> None:
        if self._engine is None or (settings.backend == "local") != (self._settings.backend == "local"):
            self._load(settings, documents)
            return
        reloads = settings.reloads_model(self._settings)
        if reloads:
            self._start_load()
        try:
            self._engine.reconfigure(settings)
        except Exception as error:
            if reloads:
                self._finish_load(None, _user_message(error))
            else:
                logger.error("could not apply the settings: %s", _user_message(error))
            return
        self._settings = settings
        if reloads:
            self._finish_load(self._engine.info, None)

    def _import_engine(self, settings: Settings) -> Callable[..., Engine]:
        """The local Engine, or the RemoteEngine (completion/remote/) when the forwards run on a server."""
        if "kvcomplete.completion.engine" not in sys.modules:
            self._report_progress("importing torch and transformers", None)
        if settings.backend != "local":
            return importlib.import_module("kvcomplete.completion.remote.engine").RemoteEngine
        return importlib.import_module("kvcomplete.completion.engine").Engine

    def _start_load(self) -> None:
        self._notify(self.ready.clear)
        self._notify(self._events.load_started)

    def _finish_load(self, info: dict | None, error: str | None) -> None:
        self._notify(self._events.load_finished, info, error)
        self._notify(self.ready.set)

    def _report_progress(self, message: str, fraction: float | None) -> None:
        self._notify(self._events.load_progress, message, fraction)

    def _notify(self, callback: Callable[..., None], *args) -> None:
        self._loop.call_soon_threadsafe(callback, *args)

    def _settle(self, future: asyncio.Future, result=None, error: Exception | None = None,
                cancel: bool = False) -> None:
        def settle() -> None:
            if future.done():  # the request's task was cancelled meanwhile
                return
            if cancel:
                future.cancel()
            elif error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        self._loop.call_soon_threadsafe(settle)


def _user_message(error: Exception) -> str:
    """What a user needs to read about a failed load: ModelError messages are written for them."""
    if isinstance(error, ModelError):
        return str(error)
    return f"{type(error).__name__}: {error}"
