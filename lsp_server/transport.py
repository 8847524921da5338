"""Where messages come from and go to: stdio (the default) or one connection on a loopback TCP port.

The framing reader is more forgiving than pygls': a header block without a usable Content-Length is
skipped, a header line glued to the garbage before it is still found, and a body that is not JSON-RPC is
logged and dropped. Whatever arrives, the loop goes on to the next message.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import re
import socket
import sys
from typing import AsyncIterator, BinaryIO

from pygls.io_ import StdinAsyncReader, StdoutWriter
from pygls.protocol import JsonRPCProtocol

logger = logging.getLogger(__name__)
CONTENT_LENGTH = re.compile(rb"Content-Length:[ \t]*(\d+)", re.IGNORECASE)
MAX_BODY_BYTES = 256 << 20


def take_stdout() -> BinaryIO:
    """The process's stdout, for the protocol alone: whatever else writes to fd 1 or sys.stdout lands on stderr."""
    sys.stdout.flush()
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return protocol_out


async def read_bodies(reader) -> AsyncIterator[bytes]:
    """Message bodies from a stream of ``Content-Length`` framed messages, until the stream ends."""
    length: int | None = None
    while True:
        try:
            line = await reader.readline()
        except ValueError:  # a header line over the reader's limit: garbage, skip it
            logger.warning("skipped an overlong header line")
            continue
        if not line:
            return
        if line.strip():
            if match := CONTENT_LENGTH.search(line):
                length = int(match.group(1))
            continue
        if length is None:
            continue  # a blank line outside a header block
        if length > MAX_BODY_BYTES:
            logger.warning("skipped a message announcing %d bytes", length)
            length = None
            continue
        try:
            body = await reader.readexactly(length)
        except asyncio.IncompleteReadError:
            return
        if len(body) < length:
            return
        length = None
        yield body


async def serve(protocol: JsonRPCProtocol, reader) -> None:
    """Hand each message from ``reader`` to ``protocol`` until the stream ends (or ``exit`` ends the process)."""
    async for body in read_bodies(reader):
        try:
            message = json.loads(body, object_hook=protocol.structure_message)
            protocol.handle_message(message)
        except Exception as error:
            logger.warning("dropped a message that is not valid JSON-RPC: %s: %s", type(error).__name__, error)


async def serve_stdio(protocol: JsonRPCProtocol) -> None:
    protocol.set_writer(StdoutWriter(take_stdout()))
    await serve(protocol, await _stdin_reader())


async def _stdin_reader():
    """An asyncio reader on stdin (a pipe or a terminal); a thread-backed one for anything else."""
    loop = asyncio.get_running_loop()
    stdin = os.fdopen(os.dup(0), "rb", buffering=0)
    reader = asyncio.StreamReader()
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
    except (ValueError, OSError, NotImplementedError):
        stdin.close()
        return StdinAsyncReader(sys.stdin.buffer)
    return reader


def loopback_address(spec: str) -> tuple[str, int]:
    """``HOST:PORT`` → (host, port); refuses a host that is not loopback (the server has no authentication)."""
    host, sep, port = spec.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"--tcp wants HOST:PORT, like 127.0.0.1:2087, not {spec!r}")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, int(port), proto=socket.IPPROTO_TCP)}
    except socket.gaierror as error:
        raise ValueError(f"--tcp: cannot resolve {host!r}: {error}") from None
    if not all(ipaddress.ip_address(address.split("%")[0]).is_loopback for address in addresses):
        raise ValueError(f"--tcp: {host} is not a loopback address; the server only listens on 127.0.0.1 or ::1")
    return host, int(port)


async def serve_tcp(protocol: JsonRPCProtocol, host: str, port: int) -> None:
    """Serve the first client that connects, until it disconnects."""
    done = asyncio.Event()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if done.is_set() or protocol.writer is not None:
            writer.close()  # one client per server: its documents and settings are not shared
            return
        protocol.set_writer(writer)
        try:
            await serve(protocol, reader)
        finally:
            done.set()

    server = await asyncio.start_server(connection, host, port)
    addresses = ", ".join("%s:%s" % sock.getsockname()[:2] for sock in server.sockets)
    print(f"kvcomplete: listening on {addresses}", file=sys.stderr, flush=True)
    async with server:
        await done.wait()
