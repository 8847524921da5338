"""The engine thread, with a recording stand-in for the engine: order, coalescing, cancellation, loading."""

from __future__ import annotations

import asyncio
import threading

import pytest

from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Cancelled, Completion, ModelError, Suggestion, TextChange
from kvcomplete.lsp_server.cancellation import SUPERSEDED, Tickets
from kvcomplete.lsp_server.worker import EngineWorker


class RecordingEngine:
    """Records calls and the thread they ran on; ``complete`` runs steps until released or cancelled, and each
    background step lasts until the test lets it end (``background_gate``): no step takes a length of real time."""

    fail_with: Exception | None = None

    def __init__(self, settings: Settings, progress=None) -> None:
        if RecordingEngine.fail_with is not None:
            raise RecordingEngine.fail_with
        progress("reading weights", 0.5)
        self.settings = settings
        self.calls: list[tuple] = []
        self.threads: set[str] = set()
        self.busy = threading.Event()  # set while complete runs
        self.release = threading.Event()
        self.steps = 0
        self.background_left = 0  # steps of idle-time work still to do
        self.background_done = 0
        self.in_background = threading.Event()  # set while a background step runs
        self.background_gate = threading.Semaphore(0)  # one release lets one background step end
        self.on_suggestions_changed = None  # set by the worker

    def background_step(self) -> bool:
        if self.background_left == 0:
            return False
        self.in_background.set()
        self.background_gate.acquire()
        self.in_background.clear()
        self.background_left -= 1
        self.background_done += 1
        self._record("background")
        return True

    @property
    def info(self) -> dict:
        return {"model": self.settings.model}

    def _record(self, *call) -> None:
        self.calls.append(call)
        self.threads.add(threading.current_thread().name)

    def open(self, uri, text, language_id=None):
        self._record("open", uri, text)

    def change(self, uri, changes):
        self._record("change", uri, [change.text for change in changes])

    def close(self, uri):
        self._record("close", uri)

    def accept(self, uri, accepted_text):
        self._record("accept", uri, accepted_text)

    def reconfigure(self, settings):
        self._record("reconfigure", settings.max_tokens)

    def complete(self, uri, offset, k=None, max_tokens=None, cancelled=lambda: False, budget_ms=0, arrived=None):
        self._record("complete", uri, offset)
        self.arrived = arrived
        self.busy.set()
        while not self.release.wait(0.005):
            self.steps += 1
            if cancelled():
                self.busy.clear()
                raise Cancelled()
        self.busy.clear()
        return Completion([Suggestion(f"at {offset}", -1.0)])


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple] = []

    def load_started(self) -> None:
        self.seen.append(("started",))

    def load_progress(self, message, fraction) -> None:
        self.seen.append(("progress", message, fraction))

    def load_finished(self, info, error) -> None:
        self.seen.append(("finished", info, error))

    def suggestions_changed(self, uri, offset) -> None:
        self.seen.append(("changed", uri, offset))


@pytest.fixture
async def worker():
    RecordingEngine.fail_with = None
    events = Events()
    worker = EngineWorker(asyncio.get_running_loop(), events, engine_factory=RecordingEngine)
    worker.start(Settings(model="first"))
    await worker.ready.wait()
    yield worker
    if worker._engine is not None:
        worker._engine.release.set()
        worker._engine.background_gate.release(worker._engine.background_left + 1)  # no step waits for a test
    worker.stop()


async def started(event: threading.Event) -> None:
    """Wait, off the loop, until the engine thread sets ``event``."""
    assert await asyncio.to_thread(event.wait, 5), "the engine thread did not get there"


async def busy(worker: EngineWorker, tickets: Tickets, uri: str) -> asyncio.Future:
    """A completion on ``uri`` that keeps the engine thread busy until ``engine.release`` is set."""
    pending = worker.complete(uri, 0, tickets.issue(uri))
    await started(worker._engine.busy)
    return pending


async def test_load_reports_progress_then_ready(worker):
    assert worker._events.seen == [("started",), ("progress", "reading weights", 0.5),
                                  ("finished", {"model": "first"}, None)]


async def test_calls_run_in_order_on_the_engine_thread_only(worker):
    engine = worker._engine
    engine.release.set()
    worker.open("file:///a.py", "text", "python")
    worker.change("file:///a.py", [TextChange(0, 0, "x")])
    worker.accept("file:///a.py", "x")
    completion = await worker.complete("file:///a.py", 1, Tickets().issue("file:///a.py"), arrived=12.5)
    worker.close("file:///a.py")
    await worker.call(lambda engine: None)
    assert completion.suggestions[0].text == "at 1"
    assert engine.arrived == 12.5  # the budget counts from the request's arrival at the server
    assert [call[0] for call in engine.calls] == ["open", "change", "accept", "complete", "close"]
    assert engine.threads == {"kvcomplete-engine"}


async def test_queued_edits_coalesce_until_another_call_on_the_document(worker):
    engine, tickets = worker._engine, Tickets()
    running = await busy(worker, tickets, "file:///other.py")  # what follows queues up
    for text in "abc":
        worker.change("file:///a.py", [TextChange(0, 0, text)])
    worker.change("file:///b.py", [TextChange(0, 0, "B")])
    later = worker.complete("file:///a.py", 3, tickets.issue("file:///a.py"))
    worker.change("file:///a.py", [TextChange(3, 3, "d")])
    worker.change("file:///a.py", [TextChange(4, 4, "e")])
    engine.release.set()
    await asyncio.gather(running, later)
    await worker.call(lambda engine: None)
    assert engine.calls[1:] == [
        ("change", "file:///a.py", ["a", "b", "c"]),  # three didChange, one engine update
        ("change", "file:///b.py", ["B"]),
        ("complete", "file:///a.py", 3),
        ("change", "file:///a.py", ["d", "e"]),  # after the completion: not folded into the first batch
    ]


async def test_a_superseded_request_stops_at_the_next_step(worker):
    tickets = Tickets()
    first = await busy(worker, tickets, "file:///a.py")
    second = worker.complete("file:///a.py", 1, tickets.issue("file:///a.py"))  # supersedes the first
    with pytest.raises(asyncio.CancelledError):  # the engine raised Cancelled at a step boundary
        await first
    worker._engine.release.set()
    assert (await second).suggestions[0].text == "at 1"


async def test_a_request_cancelled_while_queued_never_reaches_the_engine(worker):
    engine, tickets = worker._engine, Tickets()
    running = await busy(worker, tickets, "file:///other.py")
    queued_ticket = tickets.issue("file:///a.py")
    queued = worker.complete("file:///a.py", 5, queued_ticket)
    queued_ticket.cancel(SUPERSEDED)
    engine.release.set()
    await running
    with pytest.raises(asyncio.CancelledError):
        await queued
    assert ("complete", "file:///a.py", 5) not in engine.calls


async def test_the_loop_runs_while_the_engine_is_busy(worker):
    engine = worker._engine
    pending = await busy(worker, Tickets(), "file:///a.py")
    ticks = 0
    while engine.steps < 20:  # the engine works on its thread while the loop keeps turning
        ticks += 1
        await asyncio.sleep(0.001)
    engine.release.set()
    await pending
    assert ticks > 5


async def test_a_failed_load_leaves_no_engine_until_settings_load_one():
    RecordingEngine.fail_with = ModelError("no model at /nowhere: give a model folder")
    events = Events()
    worker = EngineWorker(asyncio.get_running_loop(), events, engine_factory=RecordingEngine)
    worker.start(Settings(model="/nowhere"))
    await worker.ready.wait()
    assert events.seen[-1] == ("finished", None, "no model at /nowhere: give a model folder")
    worker.open("file:///a.py", "early", None)
    worker.change("file:///a.py", [TextChange(0, 0, "x")])  # skipped: no engine
    assert await worker.complete("file:///a.py", 0, Tickets().issue("file:///a.py")) is None

    RecordingEngine.fail_with = None
    worker.reconfigure(Settings(model="second"), [("file:///a.py", "xearly", "python")])
    worker.change("file:///a.py", [TextChange(6, 6, "!")])
    await worker.call(lambda engine: None)
    engine = worker._engine
    assert engine.calls == [("open", "file:///a.py", "xearly"), ("change", "file:///a.py", ["!"])]
    assert events.seen[-1] == ("finished", {"model": "second"}, None)
    worker.stop()


async def test_settings_that_keep_the_model_reconfigure_without_a_reload(worker):
    worker.reconfigure(Settings(model="first", max_tokens=7), [])
    await worker.call(lambda engine: None)
    assert worker._engine.calls == [("reconfigure", 7)]
    assert [event[0] for event in worker._events.seen] == ["started", "progress", "finished"]


async def test_background_work_runs_when_idle_and_a_request_waits_for_one_step_at_most(worker, eventually):
    engine = worker._engine
    engine.release.set()
    engine.background_left = 40  # idle-time work, found after the next job
    await worker.call(lambda engine: None)
    await started(engine.in_background)
    pending = worker.complete("file:///a.py", 7, Tickets().issue("file:///a.py"))  # queued during a step
    engine.background_gate.release()  # that step ends
    completion = await pending
    assert completion.suggestions[0].text == "at 7"
    assert engine.background_done == 1, "the request waited for the step that ran, and no other"
    engine.background_gate.release(engine.background_left)
    await eventually(lambda: engine.background_left == 0, timeout=10, interval=0.01)  # and it resumed after
    assert engine.calls.index(("complete", "file:///a.py", 7)) < len(engine.calls) - 1


async def test_the_engine_tells_the_server_when_suggestions_grew(worker, eventually):
    worker._engine.on_suggestions_changed("file:///a.py", 12)
    await eventually(lambda: ("changed", "file:///a.py", 12) in worker._events.seen, timeout=5, interval=0.005)
