"""Next edits over real stdio: after a rename the server announces kvcomplete/nextEditsReady for the edited
version, a kvcomplete/nextEdits request answers the same set, each proposal's range holds its oldText in the
editor's text (UTF-16 columns), feedback is counted, and bad requests leave the server and the document as
they were."""

from __future__ import annotations

import pytest
from pygls.exceptions import JsonRpcException

from kvcomplete.demo.lsp_client import Editor, plain
from kvcomplete.lsp_server.next_edits import NEXT_EDIT_FEEDBACK, NEXT_EDITS, NEXT_EDITS_READY

pytestmark = pytest.mark.e2e

# Characters outside the BMP before the places: UTF-16 columns differ from code points there.
SOURCE = "def greet(name):\n    print('😀 hi', name)\n    return '😀' + name\n\n\nlabel = greet('x')\n"


async def test_a_rename_is_proposed_at_the_other_uses_announced_and_answered(start_server, tiny_options, eventually,
                                                                             lsp_offset, check_in_sync):
    client = await start_server({**tiny_options, "nextEditsThreshold": -1e9})  # the tiny model's scores are noise
    announced: list[dict] = []
    client.feature(NEXT_EDITS_READY)(lambda params: announced.append(plain(params)))
    editor = Editor(client, "file:///greet.py", SOURCE)
    at = SOURCE.index("name")
    editor.replace(at, at + len("name"), "who")

    # the set is announced as it grows (one scoring forward at a time): wait for both other uses
    ready = await eventually(lambda: announced and announced[-1]["version"] == editor.version
                             and len(announced[-1]["edits"]) == 2, timeout=60)
    assert ready, announced
    message = announced[-1]
    assert message["uri"] == editor.uri
    for edit in message["edits"]:
        start, end = (lsp_offset(editor.text, edit["range"][side]["line"], edit["range"][side]["character"],
                                 "utf-16") for side in ("start", "end"))
        assert editor.text[start:end] == edit["oldText"] == "name" and edit["newText"] == "who"
    position = {"line": 0, "character": 12}
    answer = plain(await client.custom(NEXT_EDITS, {"textDocument": {"uri": editor.uri}, "position": position}))
    assert answer == message

    unknown = plain(await client.custom(NEXT_EDITS, {"textDocument": {"uri": "file:///nope.py"}, "position": position}))
    assert unknown["edits"] == []
    for bad in ({"textDocument": {"uri": editor.uri}, "position": {"line": 99, "character": 0}},
                {"textDocument": {"uri": editor.uri}, "position": {"line": -1, "character": 0}},
                {"textDocument": {"uri": editor.uri}, "position": {"line": True, "character": "0"}},
                {"textDocument": {"uri": 5}, "position": position}, {"textDocument": "x", "position": [1, 2]},
                {"textDocument": {"uri": editor.uri}}, {"position": position}, {}):
        with pytest.raises(JsonRpcException):
            await client.custom(NEXT_EDITS, bad)

    first = message["edits"][0]
    client.protocol.notify(NEXT_EDIT_FEEDBACK, {"uri": editor.uri, "range": first["range"],
                                                "newText": first["newText"], "action": "accepted"})
    client.protocol.notify(NEXT_EDIT_FEEDBACK, {"uri": editor.uri, "action": "dismissed"})
    client.protocol.notify(NEXT_EDIT_FEEDBACK, {"uri": editor.uri, "action": "maybe"})
    stats = await eventually(lambda: _counted(client))
    assert (stats["nextEditsAccepted"], stats["nextEditsDismissed"]) == (1, 1)
    assert stats["nextEditsRequests"] == 1 and stats["nextEditsProposed"] >= 2
    await check_in_sync(editor)


async def _counted(client) -> dict | None:
    stats = await client.stats()
    return stats if stats["nextEditsDismissed"] else None
