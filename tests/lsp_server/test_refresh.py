"""kvcomplete/suggestionsChanged is throttled per document, and the last change is always sent (on a fake clock:
the intervals are exact and take no time)."""

from __future__ import annotations

import pytest

from kvcomplete.lsp_server.refresh import Throttle


def test_at_most_one_per_interval_per_document_and_the_latest_last(fake_clock):
    sent: list[tuple[str, int, float]] = []
    throttle = Throttle(lambda uri, offset: sent.append((uri, offset, fake_clock.time())), fake_clock, interval=0.2)
    for offset in range(5):  # a burst: the first goes out at once, the last after the interval
        throttle.changed("file:///a.py", offset)
    throttle.changed("file:///b.py", 7)  # another document has its own interval
    assert [(uri, offset) for uri, offset, _ in sent] == [("file:///a.py", 0), ("file:///b.py", 7)]
    fake_clock.advance(0.19)
    assert len(sent) == 2  # not before the interval has passed
    fake_clock.advance(0.16)
    assert [(uri, offset) for uri, offset, _ in sent] == [("file:///a.py", 0), ("file:///b.py", 7), ("file:///a.py", 4)]
    assert sent[2][2] - sent[0][2] == pytest.approx(0.2)  # as soon as the interval is over


def test_a_closed_document_gets_nothing_more(fake_clock):
    sent: list[tuple[str, int]] = []
    throttle = Throttle(lambda uri, offset: sent.append((uri, offset)), fake_clock, interval=0.1)
    throttle.changed("file:///a.py", 1)
    throttle.changed("file:///a.py", 2)
    throttle.forget("file:///a.py")
    fake_clock.advance(0.2)
    assert sent == [("file:///a.py", 1)]
