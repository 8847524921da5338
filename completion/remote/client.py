"""HTTP to the backend with the standard library: JSON requests, and server-sent events that can be abandoned.

A completion streams (``stream``): a reader thread parses the events into a queue while the engine thread
waits on it in short slices, so a cancelled request, its deadline or the stop rule end it at once. Ending it
closes the connection, which is how llama-server and vLLM learn to stop decoding for it.
"""

from __future__ import annotations

import http.client
import json
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Self
from urllib.parse import urlsplit

POLL_S = 0.02  # how often a waiting stream looks at cancellation and its deadline


class EngineUnavailable(Exception):
    """The backend could not be reached, refused the request, or was too slow; the message says which."""


class Deadline(Exception):
    """The stream's deadline passed before its next event."""


class HttpClient:
    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"backendUrl must be http://HOST:PORT or https://HOST:PORT, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._https, self._host, self._port = parts.scheme == "https", parts.hostname, parts.port
        self._prefix = parts.path.rstrip("/")

    def _connection(self, timeout_s: float) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return kind(self._host, self._port, timeout=timeout_s)

    def _send(self, connection: http.client.HTTPConnection, method: str, path: str, body: dict | None,
              headers: dict[str, str]) -> http.client.HTTPResponse:
        """The response to one request, or EngineUnavailable saying why there is none (the connection is then
        closed)."""
        data = None if body is None else json.dumps(body).encode()
        try:
            connection.request(method, self._prefix + path, data, {"Content-Type": "application/json", **headers})
            response = connection.getresponse()
            if response.status != 200:
                raise EngineUnavailable(f"HTTP {response.status} from {method} {path}: {_error_text(response.read())}")
            return response
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise EngineUnavailable(_describe(error)) from None
        except EngineUnavailable:
            connection.close()
            raise

    def get_json(self, path: str, timeout_s: float) -> dict:
        return self._json("GET", path, None, timeout_s)

    def post_json(self, path: str, body: dict, timeout_s: float) -> dict:
        return self._json("POST", path, body, timeout_s)

    def _json(self, method: str, path: str, body: dict | None, timeout_s: float) -> dict:
        connection = self._connection(timeout_s)
        response = self._send(connection, method, path, body, {})
        try:
            return json.loads(response.read())
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise EngineUnavailable(f"{method} {path}: {_describe(error)}") from None
        finally:
            connection.close()

    def stream(self, path: str, body: dict, headers: dict[str, str], timeout_s: float) -> EventStream:
        """POST ``body`` and read its server-sent events; a silence of ``timeout_s`` breaks the stream."""
        connection = self._connection(timeout_s)
        return EventStream(connection, lambda: self._send(connection, "POST", path, body,
                                                          {"Accept": "text/event-stream", **headers}))


class EventStream:
    """The JSON events of one response, requested and read by a thread (llama-server sends its headers only
    with the first token, so even the wait for those must not block the caller); ``close`` ends the request
    on the server too, at any point: connecting, waiting for the headers or streaming."""

    def __init__(self, connection: http.client.HTTPConnection, send: Callable[[], http.client.HTTPResponse]) -> None:
        self._events: queue.SimpleQueue[dict | Exception | None] = queue.SimpleQueue()
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._read, args=(connection, send), name="kvcomplete-remote-stream",
                         daemon=True).start()

    def _read(self, connection: http.client.HTTPConnection, send: Callable[[], http.client.HTTPResponse]) -> None:
        try:
            connection.connect()
            with self._lock:
                self._sock, closed = connection.sock, self._closed
            if not closed:
                for line in send():
                    if line.startswith(b"data: ") and line[6:].strip() != b"[DONE]":
                        self._events.put(json.loads(line[6:]))
            self._events.put(None)
        except EngineUnavailable as error:
            self._events.put(None if self._closed else error)
        except (OSError, ValueError, http.client.HTTPException) as error:  # refused, reset, a broken stream
            self._events.put(None if self._closed else EngineUnavailable(_describe(error)))
        finally:
            connection.close()

    def events(self, deadline: Callable[[], float], cancelled: Callable[[], bool]) -> Iterator[dict]:
        """The events until the stream ends; raises Deadline at ``deadline()`` (perf_counter seconds, asked
        again before each wait) and returns at once when ``cancelled()`` (the caller then closes the stream)."""
        while not cancelled():
            left = deadline() - time.perf_counter()
            if left <= 0:
                raise Deadline()
            try:
                event = self._events.get(timeout=min(POLL_S, left))
            except queue.Empty:
                continue
            if event is None:
                return
            if isinstance(event, Exception):
                raise event
            yield event

    def close(self) -> None:
        """Abandon the response: the server sees the connection close and stops decoding for it."""
        with self._lock:
            self._closed, sock = True, self._sock
        if sock is not None:  # else still connecting: the reader stops once connected
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the reader; it closes the connection
            except OSError:
                pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _describe(error: Exception) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, (TimeoutError, socket.timeout)):
        return "timed out"
    return str(error) or type(error).__name__


def _error_text(data: bytes) -> str:
    """The server's error message (llama-server and OpenAI put it in ``error.message``), or the raw body."""
    try:
        error = json.loads(data).get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return data.decode("utf-8", errors="replace").strip()[:200] or "no details"
