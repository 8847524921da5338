"""The replay's figures from hand-made records: first and final ghost text, pauses, Tab accepts."""

from __future__ import annotations

from kvcomplete.demo.figures import Input, Request, figures, finals_of

BEFORE, AFTER = "def", "\n"
AFTER_TAB = "defghi more", "\n"


def inputs() -> list[Input]:
    """Keys at 0.0 / 0.1 / 0.2 s; a Tab at 1.0; keys at 2.0 (typed along the ghost), 2.6, 3.2 and, after the
    user waited for an answer to come, 4.0."""
    keys = [("d", 0.0), ("e", 0.1), ("f", 0.2), ("Tab", 1.0), ("x", 2.0), ("y", 2.6), ("z", 3.2), ("!", 4.0)]
    return [Input(number, 2, trigger, at, ghost_kept=trigger == "x", waited=trigger == "z")
            for number, (trigger, at) in enumerate(keys)]


def request(number: int, key: int, key_at: float, sent_at: float, done_at: float, outcome: str = "answered",
            items: tuple[str, ...] = (), refresh: bool = False, context: tuple[str, str] = (BEFORE, AFTER)) -> Request:
    return Request(number=number, step=2, msg_id=f"m{number}", trigger="k", line=1, column=1, version=key + 2,
                   offset=len(context[0]), key_at=key_at, sent_at=sent_at, done_at=done_at, outcome=outcome,
                   items=items, key=key, refresh=refresh, context=context)


def requests() -> list[Request]:
    return [
        request(1, 0, 0.0, 0.1, 0.12, outcome="cancelled"),
        request(2, 2, 0.2, 0.3, 0.5, items=("ghi",)),  # cut at the budget
        request(3, 2, 0.2, 0.6, 0.65, items=("ghx",), refresh=True),  # not a beginning of the final one
        request(5, 3, 1.0, 1.1, 1.3, items=("more stuff",), context=AFTER_TAB),  # listed before, answered later
        request(4, 3, 1.0, 1.03, 1.05, items=("more",), refresh=True, context=AFTER_TAB),  # the prefetch's
        request(6, 5, 2.6, 2.7, 2.8, items=()),  # answered with nothing: no ghost text in that pause
    ]


def test_first_ghost_text_pauses_and_tab_accepts():
    result = figures(requests(), inputs())

    # First ghost text per input: 300 ms after "f" (request 2), 50 ms after the Tab (request 4, not 5).
    assert result["keystroke_to_first_ghost_ms"] == {"p50": 50.0, "p95": 300.0, "n": 2}
    assert result["after_tab_first_ghost_ms"] == {"p50": 50.0, "p95": 50.0, "n": 1}
    # Pauses of 0.5 s or more: after "f" (answered), the Tab (answered), "x" (typed along), "y" (empty answer);
    # not after "z", where the user waited for the answer.
    assert (result["pauses"], result["pauses_with_ghost"], result["pauses_with_ghost_share"]) == (4, 3, 0.75)
    assert result["keystroke_to_final_ms"] is None and result["final_inputs"] == 0  # no reference


def test_no_pause_no_share():
    result = figures(requests(), inputs()[:3])

    assert (result["pauses"], result["pauses_with_ghost"], result["pauses_with_ghost_share"]) == (0, 0, None)


def test_final_suggestion_against_the_unbudgeted_reference():
    finals = {(BEFORE, AFTER): "ghijk", AFTER_TAB: "more stuff"}

    result = figures(requests(), inputs(), finals)

    # After the Tab the final text came with request 5 (300 ms); after "f" it never did.
    assert result["keystroke_to_final_ms"] == {"p50": 300.0, "p95": 300.0, "n": 1}
    assert (result["final_inputs"], result["final_reached"]) == (2, 1)


def test_the_reference_is_the_first_suggestion_shown_at_each_text_and_cursor():
    assert finals_of(requests()) == {(BEFORE, AFTER): "ghi", AFTER_TAB: "more stuff"}
