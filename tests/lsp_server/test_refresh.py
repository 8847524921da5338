"""kvcomplete/suggestionsChanged is throttled per document, and the last change is always sent."""

from __future__ import annotations

import asyncio

from kvcomplete.lsp_server.refresh import Throttle


async def test_at_most_one_per_interval_per_document_and_the_latest_last():
    sent: list[tuple[str, int, float]] = []
    loop = asyncio.get_running_loop()
    throttle = Throttle(lambda uri, offset: sent.append((uri, offset, loop.time())), loop, interval=0.2)
    for offset in range(5):  # a burst: the first goes out at once, the last after the interval
        throttle.changed("file:///a.py", offset)
    throttle.changed("file:///b.py", 7)  # another document has its own interval
    assert [(uri, offset) for uri, offset, _ in sent] == [("file:///a.py", 0), ("file:///b.py", 7)]
    await asyncio.sleep(0.35)
    assert [(uri, offset) for uri, offset, _ in sent] == [("file:///a.py", 0), ("file:///b.py", 7), ("file:///a.py", 4)]
    assert sent[2][2] - sent[0][2] >= 0.2 - 1e-3


async def test_a_closed_document_gets_nothing_more():
    sent: list[tuple[str, int]] = []
    loop = asyncio.get_running_loop()
    throttle = Throttle(lambda uri, offset: sent.append((uri, offset)), loop, interval=0.1)
    throttle.changed("file:///a.py", 1)
    throttle.changed("file:///a.py", 2)
    throttle.forget("file:///a.py")
    await asyncio.sleep(0.2)
    assert sent == [("file:///a.py", 1)]
