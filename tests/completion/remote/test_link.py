"""BackendLink: the retry delays after failures, and their reset; what the user is told."""

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


def test_the_user_is_told_once_when_it_goes_down_and_once_when_it_is_back():
    told = []
    link = BackendLink("llama-server", "http://gpu:8080", Clock(), on_change=lambda *change: told.append(change))
    link.succeeded()  # up from the start: nothing to say
    link.failed("connection refused")
    link.failed("timed out")  # still down: the log has it, the user was told
    link.failed("it serves another model", "wrong-model")
    link.succeeded()
    link.succeeded()
    assert told == [(("kvcomplete: llama-server at http://gpu:8080: connection refused (no suggestions until it "
                     "answers)"), False),
                    (("kvcomplete: llama-server at http://gpu:8080: it serves another model (no suggestions until "
                     "it answers)"), False),
                    ("kvcomplete: llama-server at http://gpu:8080 answers again", True)]


def test_with_a_fallback_the_user_is_told_the_local_model_answers():
    told = []
    link = BackendLink("openai", "http://gpu:8000", Clock(), fallback=True, on_change=lambda *c: told.append(c))
    link.failed("connection refused")
    assert told == [(("kvcomplete: openai at http://gpu:8000: connection refused (the local model answers "
                     "meanwhile)"), False)]


def test_a_listener_that_comes_while_it_is_down_is_told_at_once():
    link = BackendLink("llama-server", "http://gpu:8080", Clock())
    link.failed("connection refused")  # the engine's first check, before the editor listens
    told = []
    link.tell(lambda *change: told.append(change))
    link.failed("connection refused")
    assert told == [(("kvcomplete: llama-server at http://gpu:8080: connection refused (no suggestions until it "
                     "answers)"), False)]
