"""Over real stdio: an answer cut at the latency budget grows in the background, the server says so with
kvcomplete/suggestionsChanged for the answered version and cursor, and asking again gets the longer text."""

from __future__ import annotations

import pytest

from kvcomplete.demo.lsp_client import Editor

pytestmark = pytest.mark.e2e

SOURCE = "def area(radius):\n    return 3.14 * radius * radius\n\n\ndef perimeter(radius):\n    return "


async def test_suggestions_grow_after_a_budgeted_answer_and_the_editor_is_told(start_server, tiny_options,
                                                                               eventually):
    client = await start_server({**tiny_options, "maxTokens": 32, "suggestions": 1, "latencyBudgetMs": 1,
                                 "speculation": False})
    notified: list[dict] = []
    client.on_suggestions_changed = notified.append
    editor = Editor(client, "file:///grow.py", SOURCE)
    position = editor.position()
    first = await client.inline(editor.uri, position)

    async def finished() -> dict | None:  # the background decoding has ended: its final time is measured
        stats = await client.stats()
        return stats if stats["finalSuggestionMs"]["p50"] is not None else None

    stats = await eventually(finished, timeout=120, interval=0.1)
    assert stats["partialAnswers"] >= 1 and notified
    params = notified[-1]
    assert params["uri"] == editor.uri and params["version"] == editor.version
    assert params["position"] == {"line": position.line, "character": position.character}
    again = await client.inline(editor.uri, position)
    assert first and again and again[0].insert_text.startswith(first[0].insert_text)
    assert len(again[0].insert_text) > len(first[0].insert_text)
    assert len(notified) <= stats["backgroundSteps"]  # at most one per background step, throttled
