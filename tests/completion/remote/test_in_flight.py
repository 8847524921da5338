"""A closed stream's slot: a request after it waits until the server has let go of it (two of its steps)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from kvcomplete.completion.decoding.stops import StopRule
from kvcomplete.completion.remote import in_flight
from kvcomplete.completion.remote.generation import SuggestionReader
from kvcomplete.completion.remote.in_flight import SLOT_RELEASE_MAX_S, InFlight
from kvcomplete.completion.remote.llama_server import LlamaServerApi


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def perf_counter(self) -> float:
        return self.now


class SteppingStream:
    """Events ``step_s`` apart on ``clock``; ``open``: the server is still decoding after the last one."""

    def __init__(self, clock: Clock, pieces: list[str], step_s: float, open: bool) -> None:
        self.clock, self.pieces, self.step_s, self.open = clock, pieces, step_s, open

    def events(self, deadline, cancelled):
        for piece in self.pieces:
            self.clock.now += self.step_s
            yield {"content": piece}
        if self.open:
            raise in_flight.Deadline()


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(in_flight, "time", SimpleNamespace(perf_counter=clock.perf_counter))
    return clock


def flight(clock: Clock, pieces: list[str], step_s: float, open: bool) -> InFlight:
    reader = SuggestionReader(LlamaServerApi(), "", StopRule(multiline=True, line_suffix="", block_indent=-1,
                                                              next_line=""))
    flight = InFlight("file:///a.py", 0, "", "", clock.now, reader, SteppingStream(clock, pieces, step_s, open))
    try:
        flight.read(lambda: float("inf"))
    except in_flight.Deadline:
        pass
    return flight


def test_a_stream_closed_while_decoding_frees_its_slot_two_steps_later(clock):
    closed = flight(clock, ["a", "b", "c", "d"], step_s=0.02, open=True)
    assert closed.released_at() - clock.now == pytest.approx(0.04)


def test_a_stream_the_server_ended_frees_its_slot_at_once(clock):
    assert flight(clock, ["a", "b"], step_s=0.02, open=False).released_at() == clock.now


def test_a_slow_server_or_an_unknown_step_waits_at_most_the_cap(clock):
    slow = flight(clock, ["a", "b", "c"], step_s=1.0, open=True)
    assert slow.released_at() - clock.now == pytest.approx(SLOT_RELEASE_MAX_S)
    first_token_only = flight(clock, ["a"], step_s=0.01, open=True)
    assert first_token_only.released_at() - clock.now == pytest.approx(SLOT_RELEASE_MAX_S)
