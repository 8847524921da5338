"""Fuzz one running server with malformed messages and edit storms; after each round it must still answer,
and its copy of the document (and the engine's) must equal the text the client has."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types

if TYPE_CHECKING:
    from tests.lsp_server.client import WireClient

pytestmark = pytest.mark.e2e

URI = "file:///fuzz.py"
ENCODING = "utf-16"
# Every kind of line break, characters Python alone treats as line breaks, astral ones, and NUL (binary).
CHARACTERS = st.sampled_from(["a", "Z", " ", "(", ":", "\n", "\r", "\r\n", "\t", "\x0c", "\u2028", "é", "😀",
                              "\x00"])
TEXT = st.lists(CHARACTERS, max_size=12).map("".join)
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=8)
# Methods that could end the session (exit, shutdown) or change settings are left out.
METHODS = st.sampled_from(["textDocument/inlineCompletion", "textDocument/completion", "kvcomplete/stats",
                           "kvcomplete/didAccept", "kvcomplete/document", "textDocument/didChange",
                           "textDocument/didOpen", "$/cancelRequest", "textDocument/hover", "initialize"]) | st.text(
    max_size=12).filter(lambda method: method not in ("exit", "shutdown", "workspace/didChangeConfiguration"))
RPC = st.fixed_dictionaries({"jsonrpc": st.sampled_from(["2.0", "1.0"]), "method": METHODS, "params": JSON},
                            optional={"id": st.integers() | st.text(max_size=4) | st.none() | st.floats()})


def exact_frame(body: bytes) -> bytes:
    """A header announcing the body's length, as LSP frames a message."""
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def short_frame(body: bytes, cut: int) -> bytes:
    """A header announcing fewer bytes than follow: the rest is read as (garbage) header lines."""
    return b"Content-Length: %d\r\n\r\n" % max(len(body) - cut, 1) + body


def long_frame(body: bytes, extra: int) -> bytes:
    """A header announcing more bytes than the body: padding fills it up, so the message is just invalid."""
    return b"Content-Length: %d\r\n\r\n" % (len(body) + extra) + body + b" " * extra


GARBAGE = st.one_of(
    st.binary(max_size=60).filter(lambda data: b"Content-Length" not in data).map(lambda data: data + b"\r\n\r\n"),
    st.binary(max_size=60).map(exact_frame),  # framed bytes that are not JSON
    JSON.map(lambda value: exact_frame(json.dumps(value).encode())),  # JSON that is not a JSON-RPC object
    RPC.map(lambda rpc: exact_frame(json.dumps(rpc).encode())),  # JSON-RPC: unknown methods, wrong params, odd ids
    st.builds(short_frame, RPC.map(lambda rpc: json.dumps(rpc).encode()), st.integers(1, 10)),
    st.builds(long_frame, st.binary(max_size=20), st.integers(1, 10)),
    st.just(b"Content-Length: ten\r\n\r\n{}\r\n\r\n"),
)


POSITION = st.tuples(st.integers(0, 10), st.integers(0, 12))  # sometimes past the end of a line or the text
EDIT = st.tuples(POSITION, POSITION, TEXT)
ROUND = st.lists(st.one_of(GARBAGE.map(lambda garbage: ("garbage", garbage)),
                           st.lists(EDIT, min_size=1, max_size=4).map(lambda batch: ("edit", batch)),
                           st.just(("stale", None))), max_size=12)


@pytest.fixture(scope="module")
def session(wire_client_class, tiny_options):
    """One server for every round, on a loop of its own (hypothesis drives the rounds synchronously)."""
    loop = asyncio.new_event_loop()
    client = wire_client_class()
    loop.run_until_complete(client.start())
    loop.run_until_complete(client.initialize(tiny_options, encodings=[ENCODING]))
    state = {"text": "def f(x):\n    return x\n", "version": 1}
    client.open(URI, state["text"])
    yield loop, client, state
    try:
        assert loop.run_until_complete(client.stop_server()) == 0
    finally:
        loop.run_until_complete(client.kill())
        loop.close()
        sys.stderr.write(f"--- server stderr ---\n{client.stderr_text()[-4000:]}\n")


def change_event(start, end, text) -> types.TextDocumentContentChangePartial:
    return types.TextDocumentContentChangePartial(
        range=types.Range(start=types.Position(line=start[0], character=start[1]),
                          end=types.Position(line=end[0], character=end[1])), text=text)


async def play(client: WireClient, state: dict, actions, lsp_replace: Callable[..., str]) -> None:
    for kind, payload in actions:
        if kind == "garbage":
            client.send_raw(payload)
        elif kind == "stale":  # an old version: ignored, the text stays
            client.change(URI, state["version"], [change_event((0, 0), (0, 0), "stale")])
        else:
            state["version"] += 1
            for start, end, text in payload:
                state["text"] = lsp_replace(state["text"], start, end, text, ENCODING)
            client.change(URI, state["version"], [change_event(*edit) for edit in payload])


async def check_still_answers(client: WireClient, state: dict) -> None:
    document = await client.document(URI)
    assert document["text"] == state["text"] and document["engineInSync"] is True
    cursor = types.Position(line=0, character=1)
    items = await client.inline(URI, cursor)
    assert all(item.range.start.line == 0 for item in items)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(actions=ROUND)
def test_malformed_messages_and_edit_storms(session, lsp_replace, actions):
    loop, client, state = session
    loop.run_until_complete(asyncio.wait_for(play(client, state, actions, lsp_replace), 60))
    loop.run_until_complete(asyncio.wait_for(check_still_answers(client, state), 60))
