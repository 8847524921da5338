"""End to end over real stdio: a pygls client drives ``kvcomplete serve`` on the tiny random model."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from kvcomplete.completion.config import Settings
from kvcomplete.demo.lsp_client import Editor, LspClient
from kvcomplete.lsp_server.server import run

pytestmark = pytest.mark.e2e

SOURCE = '''import math


def area(radius):
    return math.pi * radius ** 2
'''
TYPED = "\n\ndef perimeter(radius):\n    return 2 * math.pi * radiux\b\bus\n"
REQUEST_CANCELLED = types.LSPErrorCodes.RequestCancelled.value


async def expect_cancelled(future) -> None:
    with pytest.raises(JsonRpcException) as raised:
        await asyncio.wrap_future(future)
    assert raised.value.code == REQUEST_CANCELLED


async def test_editing_session(start_server, tiny_options, check_in_sync, checkout):
    client = await start_server(tiny_options, encodings=["utf-16"])
    editor = Editor(client, (checkout / "example.py").as_uri(), SOURCE)
    editor.type(TYPED)
    await check_in_sync(editor)

    items = await client.inline(editor.uri, editor.position())
    assert len(items) == 3 and len({item.insert_text for item in items}) == 3
    assert all(item.range == types.Range(start=editor.position(), end=editor.position()) for item in items)

    editor.type("ret")  # the completion fallback replaces the word before the cursor
    completions = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=editor.uri), position=editor.position()))
    assert completions.items
    for item in completions.items:
        assert item.text_edit.range.start == editor.position(editor.cursor - 3)
        assert item.text_edit.new_text.startswith("ret")

    # A request with its $/cancelRequest right behind it, and one superseded by a newer request on the document.
    editor.type("u")
    inline = client.inline_message(editor.uri, editor.position())
    answers = client.send_together({"id": "cancelled", **inline},
                                   {"method": types.CANCEL_REQUEST, "params": {"id": "cancelled"}},
                                   {"id": "superseded", **inline}, {"id": "newest", **inline})
    await expect_cancelled(answers["cancelled"])
    await expect_cancelled(answers["superseded"])
    assert await asyncio.wrap_future(answers["newest"])

    accepted = items[0].insert_text
    client.protocol.notify("kvcomplete/didAccept", {"uri": editor.uri, "item": 0, "acceptedText": accepted})
    editor.replace(editor.cursor, editor.cursor, accepted)
    await check_in_sync(editor)

    stats = await client.stats()
    assert stats["requests"] == 5 and stats["cancelled"] == 2
    assert stats["editsApplied"] == editor.changes_sent
    assert stats["accepts"] == 1
    assert stats["fullEncodes"] >= 1 and stats["tokensEncoded"] > 0
    assert 0 < stats["latencyMs"]["p50"] <= stats["latencyMs"]["p95"]
    assert stats["model"]["family"] == "llama" and stats["model"]["device"] == "cpu"
    without_params = client.send_together({"id": "no-params", "method": "kvcomplete/stats"})  # as Neovim sends it
    assert (await asyncio.wrap_future(without_params["no-params"])).requests == 5

    kinds = [value["kind"] for value in client.progress]
    assert kinds[0] == "begin" and kinds[-1] == "end"
    assert await client.stop_server() == 0


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
async def test_position_encodings_with_astral_characters(start_server, tiny_options, check_in_sync, encoding):
    client = await start_server(tiny_options, encodings=[encoding])
    assert client.server_capabilities.position_encoding == encoding
    editor = Editor(client, "file:///astral.py", 'face = "😀"  # 𝔘nicode\nname = "é€"\n', encoding)
    editor.cursor = editor.text.index("#")
    editor.type("𝔘😀 ")
    editor.replace(editor.text.index("é"), editor.text.index("€") + 1, "😀😀")
    editor.cursor = editor.text.index('"', editor.text.index("😀😀"))
    editor.type("\b\b🎉")
    await check_in_sync(editor)
    items = await client.inline(editor.uri, editor.position())
    assert items and items[0].range.start == editor.position()
    await client.stop_server()


async def test_bad_input_gets_errors_or_empty_answers(start_server, tiny_options, check_in_sync):
    client = await start_server(None, initialize=False)
    with pytest.raises(JsonRpcException, match="ServerNotInitialized"):
        await client.stats()
    await client.initialize({**tiny_options, "maxFileBytes": 2000, "unknownKey": 1})
    with pytest.raises(JsonRpcException, match="already initialized"):
        await client.initialize(tiny_options)
    editor = Editor(client, "file:///bad.py", SOURCE)

    with pytest.raises(JsonRpcException, match="Method Not Found"):
        await client.custom("kvcomplete/noSuchMethod")
    client.protocol.notify("kvcomplete/noSuchNotification", {})
    with pytest.raises(JsonRpcException, match="outside file:///bad.py"):
        await client.inline(editor.uri, types.Position(line=99, character=0))
    assert await client.inline("file:///not-open.py", types.Position(line=0, character=0)) == []
    client.send_message({"jsonrpc": "2.0", "id": "broken", "method": "textDocument/inlineCompletion",
                         "params": {"textDocument": {"uri": editor.uri}}})  # no position
    client.change("file:///not-open.py", 2, [types.TextDocumentContentChangeWholeDocument(text="x")])
    client.change(editor.uri, 1, [types.TextDocumentContentChangeWholeDocument(text="stale")])
    client.send_raw(b"Content-Length: 5\r\n\r\n{nope")
    await check_in_sync(editor)

    client.open("file:///binary.py", "abc\x00def")
    client.open("file:///huge.py", "x = 1\n" * 1000)
    for uri in ("file:///binary.py", "file:///huge.py"):
        assert await client.inline(uri, types.Position(line=0, character=1)) == []
        assert await client.inline(uri, types.Position(line=0, character=2)) == []
    messages = [entry.message for entry in client.log_messages]
    assert sum("binary" in text for text in messages) == 1
    assert sum("maxFileBytes" in text for text in messages) == 1
    assert any("unknownKey" in text for text in messages)
    assert client.shown_messages == []  # nothing popped up

    assert await client.inline(editor.uri, editor.position())  # still answering
    assert await client.stop_server() == 0


async def test_settings_change_and_failed_model_load(start_server, tiny_options, check_in_sync, checkout):
    client = await start_server({**tiny_options, "model": str(checkout / "no-such-model")})
    editor = Editor(client, "file:///settings.py", SOURCE)
    assert await client.inline(editor.uri, editor.position()) == []  # no model: empty, at once
    assert any("no-such-model" in shown.message for shown in client.shown_messages)
    editor.type("# more")

    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"kvcomplete": tiny_options}))
    assert await client.inline(editor.uri, editor.position())
    await check_in_sync(editor)  # the new engine got the documents as they are now

    client.configuration = {**tiny_options, "suggestions": 1}  # settings: null → the server asks for them
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await asyncio.wait_for(client.configuration_asked.wait(), 30)
    await asyncio.sleep(0.2)  # the answer is on its way to the server, ahead of what follows
    editor.type("\n# x")
    assert len(await client.inline(editor.uri, editor.position())) == 1
    await client.stop_server()


def test_tcp_refuses_addresses_other_than_loopback():
    assert run(Settings(), tcp="0.0.0.0:2087") == 2


async def test_tcp_serves_one_client_on_loopback(server_command, checkout):
    server = await asyncio.create_subprocess_exec(*server_command, "--tcp", "127.0.0.1:0", cwd=checkout,
                                                  stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        while b"listening on" not in (line := await asyncio.wait_for(server.stderr.readline(), 60)):
            assert line, "the server ended before listening"
        client = LspClient()
        await client.start_tcp("127.0.0.1", int(line.rsplit(b":", 1)[1]))
        await client.initialize({"model": str(checkout / "no-such-model")})  # the transport is tested, not the model
        client.open("file:///tcp.py", "text 😀\n")
        client.change("file:///tcp.py", 2, [types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=0, character=7), end=types.Position(line=0, character=7)),
            text="!")])
        assert (await client.document("file:///tcp.py"))["text"] == "text 😀!\n"
        await client.shutdown_async(None)
        client.exit(None)
        assert await asyncio.wait_for(server.wait(), 30) == 0
        assert await server.stdout.read() == b""  # stdout carries nothing in TCP mode either
        await client.stop()
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()


@pytest.mark.default_model
async def test_editing_session_on_the_default_model(start_server, check_in_sync):
    client = await start_server({"maxTokens": 8, "suggestions": 3})
    editor = Editor(client, "file:///circle.py", SOURCE)
    editor.type("\n\ndef perimeter(radius):\n    return 2 * math.pi * ")
    inline = client.inline_message(editor.uri, editor.position())
    answers = client.send_together({"id": "superseded", **inline}, {"id": "newest", **inline})
    await expect_cancelled(answers["superseded"])
    items = await asyncio.wrap_future(answers["newest"])
    assert len(items) == 3 and len({item.insert_text for item in items}) == 3
    assert any("radius" in item.insert_text for item in items)  # a real model completes real code
    await check_in_sync(editor)
    stats = await client.stats()
    assert (stats["requests"], stats["cancelled"], stats["editsApplied"]) == (2, 1, editor.changes_sent)
    assert await client.stop_server() == 0
