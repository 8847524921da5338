"""The demo end to end on the tiny random model, shown as plain lines (not a terminal)."""

from __future__ import annotations

import io

import pytest

from kvcomplete.completion.config import Settings
from kvcomplete.demo.actions import Pacing
from kvcomplete.demo.replay import Timing
from kvcomplete.demo.run import compare, run_demo
from kvcomplete.demo.scripts import EXAMPLE
from kvcomplete.demo.server import ServerError

pytestmark = pytest.mark.e2e


async def test_the_demo_replays_its_session_and_the_server_follows(tiny_model_dir):
    output = io.StringIO()
    settings = Settings(model=str(tiny_model_dir), max_tokens=6, log_level="warning")
    # Typing at a tenth of human pauses with a 20 ms debounce: requests still fire mid-word and get cancelled.
    result = await run_demo(settings, Pacing(scale=0.1), output, Timing(debounce_s=0.02))
    shown = output.getvalue()

    assert result.server_document["text"] == result.final_text
    assert result.server_document["engineInSync"] is True
    assert result.final_text != EXAMPLE.read_text() and "def __sub__" in result.final_text

    summary, stats = result.summary, result.summary["server_stats"]
    assert summary["answered"] >= 4  # every Wait of the script showed an answer
    assert [request for request in result.replay.requests if request.outcome == "answered" and request.items]
    assert "‹" in shown and "[5/5]" in shown and "server's copy of the file equals the replay's: yes" in shown
    assert (summary["requests"], summary["cancelled"]) == (stats["requests"], stats["cancelled"])
    assert summary["answered"] + summary["stale"] + summary["cancelled"] + summary["failed"] == summary["requests"]
    assert summary["failed"] == 0
    assert stats["fullEncodes"] >= 1 and stats["pieUpdates"] >= 1  # the edit far above went through PIE
    assert stats["accepts"] == len(summary["accepted"]) >= 1


async def test_the_comparison_replays_the_session_without_a_budget_and_tables_both(tiny_model_dir):
    settings = Settings(model=str(tiny_model_dir), max_tokens=8, log_level="warning", latency_budget_ms=1)
    shown = await run_demo(settings, Pacing(scale=0.1), io.StringIO(), Timing(debounce_s=0.02))
    output = io.StringIO()

    unbudgeted = await compare(settings, shown, 0.1, output, Timing(debounce_s=0.02))

    assert unbudgeted.summary["in_sync"]  # its text differs at the end: the last Tab takes what is shown
    assert unbudgeted.summary["server_stats"]["partialAnswers"] == 0 < shown.summary["server_stats"]["partialAnswers"]
    table = output.getvalue()
    assert "latencyBudgetMs 0" in table and "latencyBudgetMs 1" in table
    assert "keystroke_to_first_ghost_p50_ms" in table and "pauses_with_ghost_share" in table


async def test_a_model_that_cannot_load_is_reported_with_its_name(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ServerError, match="no-such-model"):
        await run_demo(Settings(model=str(missing), log_level="warning"), Pacing(scale=0.1), io.StringIO())
