"""What the views draw from a replay's state: the ghost text after the cursor, requests, the summary."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rich.console import Console

from kvcomplete.demo.ghost import Ghost
from kvcomplete.demo.replay import Request
from kvcomplete.demo.view import (
    REDRAW_S,
    LiveView,
    PlainView,
    describe_cache,
    describe_result,
    summary_lines,
    trigger_label,
)

TEXT = "def area(r):\n    return \n\nprint(area(2))\n"
CURSOR = TEXT.index("return ") + len("return ")


def replay_state(ghost_items=("3.14 * r * r\n# done",)) -> SimpleNamespace:
    request = Request(number=4, step=2, msg_id="x", trigger=" ", line=2, column=12, version=7, offset=CURSOR,
                      key_at=1.0, sent_at=1.1, done_at=1.35, outcome="answered", items=ghost_items,
                      cache={"pieUpdates": 1, "fullEncodes": 0, "tokensEncoded": 3, "draftTokensProposed": 8,
                             "draftTokensAccepted": 5})
    return SimpleNamespace(editor=SimpleNamespace(text=TEXT, cursor=CURSOR, version=7),
                           ghost=Ghost(ghost_items, CURSOR, 7), requests=[request])


def test_the_live_screen_shows_the_ghost_text_after_the_cursor_and_the_requests():
    console = Console(file=io.StringIO(), width=120, force_terminal=True, color_system=None)
    view = LiveView("title", console)
    view.started(replay_state())
    view.step(2, 5, "Typing")
    console.print(view._render())
    screen = console.file.getvalue()
    assert "   2 │     return ▏3.14 * r * r" in screen
    assert "     │ # done" in screen  # the ghost's second line has no number of its own
    assert "   4 │ print(area(2))" in screen  # the file's lines below keep their numbers
    assert "Step 2/5: Typing" in screen and "suggestion 1 of 1" in screen
    assert "2:12" in screen and "350" in screen and "PIE update ×1, 3 tokens encoded, drafts 5/8 accepted" in screen


def test_the_window_follows_the_cursor_to_the_end_of_a_long_file():
    text = "".join(f"x{number} = {number}\n" for number in range(1, 41))
    state = SimpleNamespace(editor=SimpleNamespace(text=text, cursor=len(text), version=1), requests=[],
                            ghost=Ghost(("y = 0\nz = 1",), len(text), 1))
    console = Console(file=io.StringIO(), width=80, force_terminal=True, color_system=None)
    view = LiveView("title", console)
    view.started(state)
    console.print(view._window())
    numbers = [line.split("│")[0].strip() for line in console.file.getvalue().splitlines()]
    assert numbers == [str(number) for number in range(30, 42)] + [""]  # line 41 (empty) holds the cursor
    assert console.file.getvalue().splitlines()[-2:] == ["  41 │ ▏y = 0", "     │ z = 1"]


def test_plain_lines_mark_the_ghost_text_and_flatten_line_breaks():
    stream = io.StringIO()
    view = PlainView("title", stream)
    state = replay_state()
    view.started(state)
    view.finished_request(state.requests[0])
    assert stream.getvalue().splitlines() == [
        "  #4 2:12 after Space: 1 suggestion (decoded) in 350 ms",
        "        2 |     return ‹3.14 * r * r⏎# done›",
    ]


def test_an_answer_asked_for_again_on_suggestions_changed_says_so():
    request = replay_state().requests[0]
    request.refresh = True
    assert describe_result(request) == "1 suggestion (decoded, asked again on suggestionsChanged)"


def test_keys_are_named_as_on_a_keyboard():
    assert [trigger_label(key) for key in ("\n        ", "\b", " ", "    ", "x", "(", "Tab", "move")] == \
        ["Enter", "Backspace", "Space", "indent", "'x'", "'('", "Tab", "move"]


def test_the_cache_column_and_the_summary_say_what_happened():
    assert describe_cache({"pieUpdates": 0, "fullEncodes": 1, "tokensEncoded": 700, "draftTokensProposed": 0,
                           "draftTokensAccepted": 0}) == "full encode ×1, 700 tokens encoded"
    stats = {"fullEncodes": 1, "pieUpdates": 9, "tokensEncoded": 900, "draftTokensAccepted": 3,
             "draftTokensProposed": 9, "accepts": 2}
    lines = summary_lines({"edits": 40, "accepted": ["a", "b"], "wall_s": 12.0, "ready_s": 3.0, "requests": 10,
                           "answered": 4, "type_along": 1, "cancelled": 6, "stale": 0, "debounce_ms": 100.0,
                           "keystroke_to_result_ms": {"p50": 120.0, "p95": 900.0, "n": 4}, "server_stats": stats,
                           "keystroke_to_first_ghost_ms": {"p50": 80.0, "p95": 400.0, "n": 5},
                           "after_tab_first_ghost_ms": {"p50": 0.0, "p95": 0.0, "n": 0}, "pauses": 6,
                           "pauses_with_ghost": 5, "refreshes": 3, "notifications": 4, "stale_notifications": 1,
                           "in_sync": True})
    assert "p50 120 ms, p95 900 ms over 4 answers" in lines[2]
    assert lines[3] == "keystroke to first ghost text: p50 80 ms, p95 400 ms (n=5); after a Tab: none"
    assert lines[4] == ("ghost text on screen in 5 of 6 typing pauses of 0.5 s or more; 3 re-requests on 4 "
                        "suggestionsChanged (1 stale, ignored)")
    assert lines[-1].endswith("yes")


def test_the_live_screen_is_redrawn_ten_times_a_second_at_most_and_after_the_last_event(fake_clock):
    view = LiveView("title", Console(file=io.StringIO(), force_terminal=True), fake_clock.time, fake_clock.call_later)
    redraws = []
    view._live = SimpleNamespace(refresh=lambda: redraws.append(fake_clock.time()))
    started = fake_clock.time()
    for _ in range(40):  # keys every 5 ms
        last_event = fake_clock.time()
        view.edited("x")
        fake_clock.advance(0.005)
    fake_clock.advance(REDRAW_S * 1.5)
    assert 2 <= len(redraws) <= (last_event - started) / REDRAW_S + 2
    assert all(later - earlier >= REDRAW_S - 1e-9 for earlier, later in zip(redraws, redraws[1:]))
    assert redraws[-1] >= last_event  # the screen shows the last event
