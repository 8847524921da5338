"""BackendLink: the retry delays after failures, and their reset."""

from __future__ import annotations

from kvcomplete.completion.remote.link import BackendLink


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_retries_wait_1_2_4_8_then_10_seconds_and_a_success_resets_them():
    clock = Clock()
    link = BackendLink("llama-server", "http://127.0.0.1:8080", clock)
    assert link.due()
    delays = []
    for _ in range(6):
        link.failed("connection refused")
        start = clock.now
        while not link.due():
            clock.now += 0.5
        delays.append(clock.now - start)
    assert delays == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    link.succeeded()
    link.failed("connection refused")
    assert link.retry_at - clock.now == 1.0


def test_the_reason_names_the_backend_and_stays_the_same_while_it_is_down():
    clock = Clock()
    link = BackendLink("openai", "http://10.0.0.2:8000", clock)
    link.failed("connection refused")
    first = link.reason()
    clock.now += 3
    link.failed("connection refused")
    assert link.reason() == first == "openai at http://10.0.0.2:8000: connection refused"
    assert link.report() == {"kind": "openai", "url": "http://10.0.0.2:8000", "state": "down",
                             "error": "connection refused"}
