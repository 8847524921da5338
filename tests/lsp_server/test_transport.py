"""Message framing that survives garbage, and the loopback-only TCP address."""

from __future__ import annotations

import asyncio

import pytest

from kvcomplete.lsp_server.transport import loopback_address, read_bodies


async def bodies_of(data: bytes) -> list[bytes]:
    reader = asyncio.StreamReader(limit=1024)
    reader.feed_data(data)
    reader.feed_eof()
    return [body async for body in read_bodies(reader)]


async def test_well_formed_messages_come_through_with_extra_headers(frame):
    data = frame("one") + b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: 3\r\n\r\ntwo"
    assert await bodies_of(data) == [b"one", b"two"]


@pytest.mark.parametrize("garbage", [
    b"\r\n\r\n",  # blank lines outside a header block
    b"X-Nonsense: 1\r\n\r\n",  # a header block without Content-Length
    b"Content-Length: many\r\n\r\n",  # a length that is not a number
    b"\x00\xff\xfe binary \r\n\r\n",
    b"Content-Length: 99999999999\r\n\r\n",  # more than any message may carry
    b"x" * 5000 + b"\r\n\r\n",  # a header line over the reader's limit
    b'{"jsonrpc": "2.0", "method": "lost"}',  # a body without headers, glued to the next header line
])
async def test_garbage_between_messages_is_skipped(garbage, frame):
    assert await bodies_of(frame("before") + garbage + frame("after")) == [b"before", b"after"]


async def test_a_truncated_stream_ends_quietly(frame):
    assert await bodies_of(frame("whole") + b"Content-Length: 10\r\n\r\nshort") == [b"whole"]


@pytest.mark.parametrize("spec, address", [("127.0.0.1:2087", ("127.0.0.1", 2087)),
                                           ("localhost:0", ("localhost", 0)),
                                           ("[::1]:9000", ("::1", 9000))])
def test_loopback_addresses_are_accepted(spec, address):
    assert loopback_address(spec) == address


@pytest.mark.parametrize("spec, message", [("0.0.0.0:2087", "not a loopback"),
                                           ("192.168.1.10:2087", "not a loopback"),
                                           ("2087", "HOST:PORT"),
                                           ("127.0.0.1:http", "HOST:PORT")])
def test_other_addresses_are_refused(spec, message):
    with pytest.raises(ValueError, match=message):
        loopback_address(spec)
