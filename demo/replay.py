"""Replay an editing session through a live server, as an editor sends it, and record every request.

Each key is a didChange. Like VS Code and Neovim, the editor asks for inline completions once typing
pauses for ``debounce_s`` (a timer restarted by every key; none after Tab), cancels the request in flight with
``$/cancelRequest`` as soon as the document changes or the cursor moves, and shows an answer only if
the document and cursor are still those it was asked for (else it is stale). Ghost text follows keys
typed along it; Tab sends ``kvcomplete/didAccept`` and inserts the text. Keystroke-to-result latency is
the time from the key after which the request fired to its answer: the debounce plus the server's time.

The server may answer with what it decoded by its latency budget and decode on; it then notifies
``kvcomplete/suggestionsChanged {uri, version, position}``. Like the plugins, the editor asks again at once
(no debounce) when that is its document, version and cursor, and ignores the notification otherwise (the
user moved on). A request already in flight there needs no second one: it answers with what has grown.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from lsprotocol import types

from kvcomplete.demo.actions import (
    Accept,
    DeleteLine,
    MoveTo,
    Pacing,
    Pause,
    Step,
    Type,
    Wait,
    anchor_offset,
    line_span,
    next_key,
)
from kvcomplete.demo.figures import Input, Request, figures, percentiles
from kvcomplete.demo.ghost import Answers, Ghost, matching_part
from kvcomplete.demo.lsp_client import Editor, items_of

REQUEST_CANCELLED = types.LSPErrorCodes.RequestCancelled.value
# Engine counters whose change between two answers says what the cache and the drafters did.
CACHE_COUNTERS = ("pieUpdates", "fullEncodes", "tokensEncoded", "draftTokensProposed", "draftTokensAccepted")


class Observer(Protocol):
    """What a view is told while a session runs; it may read the replay's state once ``started``."""

    def status(self, message: str) -> None: ...

    def started(self, replay: Replay) -> None: ...

    def step(self, number: int, total: int, caption: str) -> None: ...

    def edited(self, what: str) -> None: ...

    def sent_request(self, request: Request) -> None: ...

    def finished_request(self, request: Request) -> None: ...

    def cache_known(self, request: Request) -> None: ...

    def accepted(self, text: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Timing:
    debounce_s: float = 0.1
    wait_timeout_s: float = 60.0  # Wait gives up on a suggestion after this long
    move_s: float = 0.4  # the pause after a cursor move, a line deletion or Tab


class Replay:
    """Plays steps on ``editor`` (whose client is connected to the server) and keeps every request."""

    def __init__(self, editor: Editor, observer: Observer, pacing: Pacing, timing: Timing = Timing(),
                 track_cache: bool = False) -> None:
        self.editor, self.observer, self.pacing, self.timing = editor, observer, pacing, timing
        self.track_cache = track_cache
        self.requests: list[Request] = []
        self.accepted: list[str] = []
        self.edits = 0  # didChanges sent: keys typed, Tabs, line deletions (cursor moves are not edits)
        self.inputs: list[Input] = []
        self.notifications = 0  # kvcomplete/suggestionsChanged received
        self.stale_notifications = 0  # of them, for another version or cursor: ignored
        self.ghost: Ghost | None = None
        self._answers = Answers()
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._in_flight: Request | None = None
        self._settled = asyncio.Event()  # set when the request for the current text and cursor has finished
        self._settled.set()
        self._unanswered: set[asyncio.Future] = set()  # requests whose response has not arrived
        self._followers: set[asyncio.Task] = set()  # stats queries under way
        self._cache_lock = asyncio.Lock()
        self._counters: dict | None = None
        self._step = 0
        self._due = 0.0  # loop time the current action was due at (see _pause)

    async def play(self, steps: tuple[Step, ...]) -> None:
        self.observer.started(self)
        self.editor.client.on_suggestions_changed = self.suggestions_changed
        if self.track_cache:
            self._counters = await self.editor.client.stats()
        self._due = self._loop.time()
        for number, step in enumerate(steps, 1):
            self._step = number
            self.observer.step(number, len(steps), step.caption)
            for action in step.actions:
                await self._do(action)
        await self._finish()

    def summary(self, from_step: int = 1, finals: Mapping[tuple[str, str], str] | None = None) -> dict:
        """Counts and latencies of the requests sent from step ``from_step`` on (answered: shown by the editor;
        keystroke and request to result: the debounced requests'), and ``figures``' (the final suggestion's
        against ``finals``); the notifications, edits and accepted texts are the whole session's."""
        requests = [request for request in self.requests if request.step >= from_step]
        answered = [request for request in requests if request.outcome == "answered"]
        debounced = [request for request in answered if not request.refresh]
        outcomes = [request.outcome for request in requests]
        type_along = sum(request.type_along for request in answered)
        return {
            "requests": len(requests), "answered": len(answered), "cancelled": outcomes.count("cancelled"),
            "stale": outcomes.count("stale"), "failed": outcomes.count("failed"), "type_along": type_along,
            "type_along_share": round(type_along / len(answered), 3) if answered else 0.0,
            "refreshes": sum(request.refresh for request in requests), "notifications": self.notifications,
            "stale_notifications": self.stale_notifications,
            "keystroke_to_result_ms": percentiles([request.latency_ms for request in debounced]),
            "request_to_result_ms": percentiles([request.server_ms for request in debounced]),
            **figures(requests, [item for item in self.inputs if item.step >= from_step], finals),
            "debounce_ms": self.timing.debounce_s * 1000, "edits": self.edits, "accepted": list(self.accepted),
        }

    def _count_notification(self, params: dict) -> None:
        self.notifications += 1

    def suggestions_changed(self, params: dict) -> None:
        """``kvcomplete/suggestionsChanged``: ask again at once if it is about the document, version and cursor
        on screen (and no request is in flight there), else ignore it."""
        self.notifications += 1
        editor, position = self.editor, self.editor.position()
        spot = (params.get("uri"), params.get("version"), params.get("position"))
        if spot != (editor.uri, editor.version, {"line": position.line, "character": position.character}):
            self.stale_notifications += 1
            return
        if self._in_flight is not None:
            return
        if self._timer is not None:  # the request asked now replaces the debounced one
            self._timer.cancel()
            self._timer = None
        self._send(refresh=True)

    async def _do(self, action) -> None:
        if isinstance(action, Type):
            await self._type(action)
        elif isinstance(action, Wait):
            await self._wait(action)
        elif isinstance(action, Pause):
            await self._pause(self.pacing.seconds(action.seconds))
        elif isinstance(action, Accept):
            if self.ghost is not None:
                await self._tab(self.ghost.text)
        elif isinstance(action, MoveTo):
            await self._move(anchor_offset(self.editor.text, action.anchor))
        elif isinstance(action, DeleteLine):
            start, end = line_span(self.editor.text, action.anchor)
            self._change(start, end, "", "delete line")
            await self._pause(self.pacing.seconds(self.timing.move_s))
        else:
            raise TypeError(f"not an action: {action!r}")

    # -- the user ------------------------------------------------------------------------------------
    async def _type(self, action: Type) -> None:
        rest = action.text
        while rest:
            part = self._tab_worthy(rest) if action.accept_matching else ""
            if part:
                await self._tab(part)
                rest = rest[len(part):]
                continue
            key = next_key(rest)
            if key == "\b":
                self._change(self.editor.cursor - 1, self.editor.cursor, "", "\b")
            else:
                self._change(self.editor.cursor, self.editor.cursor, key, key)
            rest = rest[len(key):]
            await self._pause(self.pacing.after(key))

    def _tab_worthy(self, rest: str) -> str:
        """What of the ghost text to accept when the user is about to type ``rest`` (up to a typo they make)."""
        return "" if self.ghost is None else matching_part(self.ghost.text, rest.split("\b", 1)[0])

    async def _tab(self, text: str) -> None:
        """Accept ``text`` of the ghost text shown (all of it, or its beginning)."""
        self.editor.client.did_accept(self.editor.uri, 0, text)
        self._change(self.editor.cursor, self.editor.cursor, text, "Tab")
        self.accepted.append(text)
        self.observer.accepted(text)
        await self._pause(self.pacing.seconds(self.timing.move_s))

    async def _wait(self, action: Wait) -> None:
        if self.inputs:
            self.inputs[-1].waited = True
        try:
            await asyncio.wait_for(self._settled.wait(), self.timing.wait_timeout_s)
        except asyncio.TimeoutError:
            pass  # the user gives up waiting and goes on; the request shows as slow or cancelled
        self._due = self._loop.time()
        await self._pause(self.pacing.seconds(action.read_s))

    async def _pause(self, seconds: float) -> None:
        """Wait until ``seconds`` after the previous action was due: time the client spends (drawing the
        screen) does not slow the user down."""
        self._due += seconds
        await asyncio.sleep(max(0.0, self._due - self._loop.time()))

    async def _move(self, offset: int) -> None:
        self._interrupt()
        self.editor.cursor = offset
        self.ghost = None
        self._after_input("move")
        await self._pause(self.pacing.seconds(self.timing.move_s))

    # -- the editor ----------------------------------------------------------------------------------
    def _change(self, start: int, end: int, text: str, trigger: str) -> None:
        """Edit the document (a didChange), keep the ghost text typed along, and restart the debounce."""
        self._interrupt()
        ghost = self.ghost
        self.editor.replace(start, end, text)
        self.edits += 1
        typed_along = ghost is not None and start == end == ghost.offset and text
        self.ghost = ghost.after_typing(text, self.editor.version) if typed_along else None
        self._after_input(trigger)

    def _interrupt(self) -> None:
        """The document or the cursor changes: no pending debounce, no request in flight."""
        if self._timer is not None:
            self._timer.cancel()
        if self._in_flight is not None:
            self.editor.client.cancel(self._in_flight.msg_id)
            self._in_flight = None
        self._settled.clear()

    def _after_input(self, trigger: str) -> None:
        self.inputs.append(Input(len(self.inputs), self._step, trigger, self._loop.time(), self.ghost is not None))
        self.observer.edited(trigger)
        # A Tab is no keystroke of a burst: the plugins ask at once after an accept (the server has usually
        # started on what comes next), typed keys after the debounce.
        self._timer = self._loop.call_later(0.0 if trigger == "Tab" else self.timing.debounce_s, self._send)

    def _send(self, refresh: bool = False) -> None:
        """Ask for inline completions at the cursor, for the latest input."""
        self._timer = None
        editor, key = self.editor, self.inputs[-1]
        position = editor.position()
        context = editor.text[: editor.cursor], editor.text[editor.cursor:]
        request = Request(number=len(self.requests) + 1, step=self._step, msg_id=f"demo-{uuid.uuid4().hex[:12]}",
                          trigger=key.trigger, line=position.line + 1,
                          column=editor.cursor - editor.text.rfind("\n", 0, editor.cursor),
                          version=editor.version, offset=editor.cursor, key_at=key.at, sent_at=self._loop.time(),
                          key=key.number, refresh=refresh, context=context)
        self.requests.append(request)
        self._in_flight = request
        future = editor.client.send_inline(editor.uri, position, request.msg_id)
        self._unanswered.add(future)
        future.add_done_callback(lambda done: self._finished(request, context, done))
        self.observer.sent_request(request)

    def _finished(self, request: Request, context: tuple[str, str], future: asyncio.Future) -> None:
        request.done_at = self._loop.time()
        self._unanswered.discard(future)
        error = None if future.cancelled() else future.exception()
        if future.cancelled() or getattr(error, "code", None) == REQUEST_CANCELLED:
            request.outcome = "cancelled"
        elif error is not None:
            request.outcome, request.error = "failed", str(error)
        else:
            request.items = tuple(item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
                                  for item in items_of(future.result()))
            request.type_along = self._answers.type_along(*context, request.items)
            current = (request.version, request.offset) == (self.editor.version, self.editor.cursor)
            request.outcome = "answered" if current else "stale"
            if current:
                self.ghost = Ghost(request.items, request.offset, request.version) if request.items else None
            if self.track_cache:
                self._follow(self._cache_of(request))
        if self._in_flight is request:
            self._in_flight = None
        if (request.version, request.offset) == (self.editor.version, self.editor.cursor):
            self._settled.set()
        self.observer.finished_request(request)

    async def _cache_of(self, request: Request) -> None:
        """What the engine's cache and drafters did since the previous answer (``kvcomplete/stats`` runs on
        the engine thread after the work queued before it)."""
        async with self._cache_lock:
            counters = await self.editor.client.stats()
            request.cache = {name: counters[name] - self._counters[name] for name in CACHE_COUNTERS}
            self._counters = counters
        self.observer.cache_known(request)

    def _follow(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self._followers.add(task)
        task.add_done_callback(self._followers.discard)

    async def _finish(self) -> None:
        """Let the last request be answered, every response arrive and the stats queries under way finish;
        from then on notifications are only counted (a request sent after the session's stats were read
        would be missing from them)."""
        self.editor.client.on_suggestions_changed = self._count_notification
        try:
            await asyncio.wait_for(self._settled.wait(), self.timing.wait_timeout_s)
        except asyncio.TimeoutError:
            self._interrupt()
        if self._unanswered:
            await asyncio.wait(self._unanswered, timeout=self.timing.wait_timeout_s)
        while self._followers:
            await asyncio.gather(*self._followers)
