"""``kvcomplete serve`` with the forwards on a real llama-server (built by `make llama-cpp`), serving the default
model's GGUF: suggestion #1 as the local engine's, the server's prompt cache across typing, the OpenAI API,
and an engine killed and restarted while typing."""

from __future__ import annotations

import asyncio
import inspect
import json.decoder
import time

import pytest
from lsprotocol import types

from kvcomplete import llama_cpp
from kvcomplete.bench.team import LlamaServerProcess
from kvcomplete.completion.config import Settings
from kvcomplete.completion.model import default_model
from kvcomplete.demo.lsp_client import Editor
from tests.lsp_server.client import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.default_model,
              pytest.mark.skipif(llama_cpp.binary("llama-server") is None,
                                 reason=llama_cpp.missing_message("llama-server"))]

SOURCE = inspect.getsource(json.decoder)  # real code that stays the same for a Python version
POINTS = ("    _append = values.app", "        if nextchar == ']':\n            brea", "    pairs = dict(pai",
          "def JSONArray(s_and_end, scan_once, _w=WHITESPACE.match, _ws=WHI")
URI = "file:///work/decoder.py"
# A busy 2-core CI prefills about 140 tokens/s: the smallest window (256 tokens) keeps cold prompts short.
OPTIONS = {"maxTokens": 12, "suggestions": 1, "latencyBudgetMs": 0, "backendTimeoutMs": 60_000, "contextTokens": 256}


@pytest.fixture(scope="module")
def llama_server():
    """llama-server with the default model's GGUF, two slots; ``start`` again keeps its port."""
    server = LlamaServerProcess(default_model.default_gguf_path(), slots=2, threads=2).start()
    yield server
    server.stop()


def _cut(point: str) -> tuple[str, int]:
    """SOURCE with the rest of ``point``'s line deleted, as when writing that line; and the cursor after it."""
    assert SOURCE.count(point) == 1, point
    cursor = SOURCE.index(point) + len(point)
    return SOURCE[:cursor] + SOURCE[SOURCE.index("\n", cursor):], cursor


def _uri(index: int) -> str:
    return f"file:///work/decoder_{index}.py"


@pytest.fixture(scope="module")
def local_first_lines() -> list[str]:
    """Suggestion #1's first line at each point from the local engine (same model, greedy)."""
    from kvcomplete.completion.engine import Engine

    engine = Engine(Settings(max_tokens=OPTIONS["maxTokens"], context_tokens=OPTIONS["contextTokens"]))
    lines = []
    for index, point in enumerate(POINTS):
        text, cursor = _cut(point)
        engine.open(_uri(index), text, "python")
        lines.append(_first_line([s.text for s in engine.complete(_uri(index), cursor, k=1).suggestions]))
    return lines


def _first_line(texts: list[str]) -> str:
    """The first line of suggestion #1 ("" without one)."""
    return texts[0].split("\n")[0] if texts else ""


async def _first_lines(client) -> tuple[list[str], list[Editor]]:
    """Suggestion #1's first line at each point over LSP, and the editors of the points' documents."""
    lines, editors = [], []
    for index, point in enumerate(POINTS):
        text, cursor = _cut(point)
        editors.append(Editor(client, _uri(index), text))
        editors[-1].cursor = cursor
        items = await client.inline(_uri(index), editors[-1].position())
        lines.append(_first_line([item.insert_text for item in items]))
    return lines, editors


async def test_suggestions_match_the_local_engine_and_typing_reuses_the_cache(start_server, llama_server,
                                                                             local_first_lines):
    client = await start_server({**OPTIONS, "backend": "llama-server", "backendUrl": llama_server.url})
    remote, editors = await _first_lines(client)
    print("remote", remote, "local", local_first_lines)
    # llama.cpp's Q4_1 kernels round differently from the local int4/bf16 ones: a near tie may go either way
    assert sum(r == loc for r, loc in zip(remote, local_first_lines)) >= len(POINTS) - 1
    assert all(remote)
    before = await client.stats()
    editors[0].type("_x")  # "_" types along suggestion #1, "x" leaves it: one request
    await client.inline(editors[0].uri, editors[0].position())
    after = await client.stats()
    prefilled = after["remotePrefilled"] - before["remotePrefilled"]
    sent = after["remotePromptTokens"] - before["remotePromptTokens"]
    assert after["remoteRequests"] == before["remoteRequests"] + 1 and after["remoteErrors"] == 0
    assert prefilled <= 8 < sent  # the slot held everything before the edit
    assert after["backend"]["state"] == "ok"
    assert await client.stop_server() == 0


async def test_the_openai_api_of_llama_server(start_server, llama_server):
    native = await start_server({**OPTIONS, "backend": "llama-server", "backendUrl": llama_server.url})
    openai = await start_server({**OPTIONS, "backend": "openai", "backendUrl": llama_server.url})
    lines = [(await _first_lines(client))[0] for client in (native, openai)]
    print("native", lines[0], "openai", lines[1])
    # No grammar over OpenAI's API: a point whose greedy text leaves the healed token has no suggestion there.
    assert any(lines[1]) and all(o in ("", n) for n, o in zip(*lines))
    stats = await openai.stats()
    assert stats["backend"]["kind"] == "openai" and stats["remoteErrors"] == 0
    assert stats["model"]["backendUrl"] == llama_server.url


async def test_an_engine_killed_while_typing_answers_empty_then_resumes(start_server, llama_server):
    client = await start_server({**OPTIONS, "backend": "llama-server", "backendUrl": llama_server.url})
    text, cursor = _cut(POINTS[1])
    editor = Editor(client, URI, text)
    editor.cursor = cursor
    assert await client.inline(URI, editor.position())
    llama_server.stop()
    editor.type("k\n        ")  # past the suggestion shown ("k"): a new request
    started = time.monotonic()
    assert await asyncio.wait_for(client.inline(URI, editor.position()), 10) == []
    assert time.monotonic() - started < 5  # refused at once: no wait for backendTimeoutMs or a hang
    stats = await client.stats()
    assert stats["backend"]["state"] == "down" and "connection refused" in stats["backend"]["error"]
    shown = await eventually(lambda: _shown(client, types.MessageType.Warning))
    assert llama_server.url in shown[-1].message or "connection refused" in shown[-1].message, shown[-1].message
    llama_server.start()
    healthy_at = time.monotonic()
    await eventually(lambda: client.inline(URI, editor.position()), timeout=60, interval=0.2)
    # Within the retry delay (1 s, 2 s, 4 s ... after each failure) plus the restarted engine's cold prefill
    print("resumed after", round(time.monotonic() - healthy_at, 2), "s")
    assert (await client.stats())["backend"]["state"] == "ok"
    assert await eventually(lambda: _shown(client, types.MessageType.Info))  # told once that it is back
    assert len(_shown(client, types.MessageType.Warning)) == 1  # once, not per failed request
    assert await client.stop_server() == 0


def _shown(client, kind: types.MessageType) -> list[types.ShowMessageParams]:
    """The ``window/showMessage`` pop-ups of ``kind`` so far (falsy while there are none, for ``eventually``)."""
    return [message for message in client.shown_messages if message.type == kind]
