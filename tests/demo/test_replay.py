"""The replayed editor's handling of ``kvcomplete/suggestionsChanged``, on a client that records what it sends."""

from __future__ import annotations

import asyncio

from lsprotocol import types

from kvcomplete.demo.actions import Pacing, Pause
from kvcomplete.demo.latency import Silent
from kvcomplete.demo.lsp_client import Editor
from kvcomplete.demo.replay import Replay, Timing

URI = "file:///x.py"


class RecordingClient:
    """Takes what an Editor and a Replay send; inline requests stay unanswered until ``answer``."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, types.Position]] = []
        self.cancelled: list[str] = []
        self.pending: dict[str, asyncio.Future] = {}

    def open(self, uri: str, text: str) -> None:
        pass

    def change(self, uri: str, version: int, changes: list) -> None:
        pass

    def send_inline(self, uri: str, position: types.Position, msg_id: str) -> asyncio.Future:
        self.sent.append((msg_id, position))
        self.pending[msg_id] = asyncio.get_running_loop().create_future()
        return self.pending[msg_id]

    def cancel(self, msg_id: str) -> None:
        self.cancelled.append(msg_id)

    def answer(self, msg_id: str, text: str) -> None:
        self.pending.pop(msg_id).set_result([types.InlineCompletionItem(insert_text=text)])


async def typed(keys: str) -> tuple[Replay, RecordingClient]:
    """A replay on "x = " whose user typed ``keys``; a debounce long enough that only notifications send."""
    client = RecordingClient()
    replay = Replay(Editor(client, URI, "x = "), Silent(), Pacing(scale=0.001), Timing(debounce_s=60))
    replay.editor.cursor = len(replay.editor.text)
    replay._step = 1
    for key in keys:
        replay._change(replay.editor.cursor, replay.editor.cursor, key, key)
    return replay, client


def notification(version: int, character: int, uri: str = URI) -> dict:
    return {"uri": uri, "version": version, "position": {"line": 0, "character": character}}


async def test_a_notification_for_the_text_and_cursor_on_screen_asks_again_at_once():
    replay, client = await typed("1")  # version 2, cursor at character 5

    replay.suggestions_changed(notification(2, 5))

    assert [position for _, position in client.sent] == [types.Position(line=0, character=5)]
    request = replay.requests[0]
    assert (request.refresh, request.key, request.trigger, request.version) == (True, 0, "1", 2)
    assert replay._timer is None  # the debounced request is not sent as well
    client.answer(request.msg_id, "0 + 1")
    await asyncio.sleep(0)
    assert request.outcome == "answered" and replay.ghost.text == "0 + 1"
    summary = replay.summary()
    assert (summary["refreshes"], summary["notifications"], summary["stale_notifications"]) == (1, 1, 0)
    assert summary["keystroke_to_first_ghost_ms"]["n"] == 1


async def test_a_stale_notification_is_ignored():
    replay, client = await typed("12")  # version 3, cursor at character 6

    for stale in (notification(2, 5), notification(2, 6), notification(3, 5), notification(3, 6, "file:///y.py")):
        replay.suggestions_changed(stale)

    assert client.sent == [] and replay.requests == []
    assert replay._timer is not None  # the debounce for the last key still runs
    assert (replay.notifications, replay.stale_notifications) == (4, 4)


async def test_no_second_request_while_one_is_in_flight_at_the_cursor():
    replay, client = await typed("1")
    replay._send()  # the debounced request

    replay.suggestions_changed(notification(2, 5))

    assert len(client.sent) == 1 and client.cancelled == []
    assert (replay.notifications, replay.stale_notifications) == (1, 0)


async def test_a_pause_waits_whatever_is_on_screen():
    replay, client = await typed("1")
    started = asyncio.get_running_loop().time()

    await replay._do(Pause(2.0))  # 2 ms at this pace, though no answer ever comes

    assert asyncio.get_running_loop().time() - started < 1 and replay.requests == []
