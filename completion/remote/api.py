"""What a backend's API mapping provides (llama_server.py, openai.py), and the plain types they share."""

from __future__ import annotations

import getpass
import socket
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from kvcomplete.completion.prompt.builder import Prompt
from kvcomplete.completion.remote.client import HttpClient

USER = f"{getpass.getuser()}@{socket.gethostname()}"  # routing keys differ per user on a shared server


@dataclass(frozen=True, slots=True)
class RemoteRequest:
    """One completion, in tokens: what the engine asks the backend to continue."""

    tokens: list[int]  # the prompt, cursor last (stable context first, so the server's prefix cache holds)
    healed: str  # the text before the cursor the prompt backed off from: the suggestion starts with it
    max_tokens: int
    key: int  # stable per user and file: a router sends the same file to the same server
    time_limit_ms: int  # the server stops decoding by then even if the connection's close goes unnoticed


@dataclass(frozen=True, slots=True)
class EngineFacts:
    """What the backend says about itself, read once it answers."""

    model: str
    vocab_size: int | None  # None: the API does not tell
    context_tokens: int | None  # per request (llama-server: per slot)

    def mismatch(self, vocab_size: int, name: str) -> str | None:
        """Why the backend's model is not the tokenizer's (``name``, ``vocab_size`` tokens), if it is not."""
        if self.vocab_size is None or self.vocab_size == vocab_size:
            return None
        return (f"it serves {self.model} (a vocabulary of {self.vocab_size} tokens), not {name} ({vocab_size} tokens):"
                " serve the same model, or set `model` to the served model's tokenizer")


@dataclass(frozen=True, slots=True)
class Usage:
    prefilled: int  # prompt tokens the server computed for this request
    cached: int  # prompt tokens it reused from its cache


def remote_request(tokens: list[int], prompt: Prompt, owner: str, max_tokens: int,
                   time_limit_ms: int) -> RemoteRequest:
    """The request for ``prompt`` in the cached ``tokens`` (completion/prompt/builder.py: the tokens before its
    last token, then that one); ``owner`` (user and file) gives the routing key."""
    return RemoteRequest(tokens[: prompt.prefix_len] + [prompt.last_token], prompt.healed.decode("utf-8", "ignore"),
                         max_tokens, zlib.crc32(owner.encode()), time_limit_ms)


class WrongModel(Exception):
    """The backend serves another model than the tokenizer's (or not the one asked for)."""


class Api(Protocol):
    path: str  # where completions are POSTed

    def facts(self, http: HttpClient, timeout_s: float) -> EngineFacts: ...

    def body(self, request: RemoteRequest) -> dict: ...

    def text_of(self, event: dict) -> str: ...

    def usage_of(self, event: dict) -> Usage | None: ...


def error_in(event: dict) -> str | None:
    """The message of an error event in a stream (both APIs send ``{"error": {"message": ...}}``)."""
    error = event.get("error")
    if error is None:
        return None
    return str(error.get("message", error)) if isinstance(error, dict) else str(error)


class NoDrafters:
    """Where the workspace index feeds drafters: drafting is the server's business, so nothing is kept."""

    def set_source(self, key: str, tokens: Sequence[int] | None) -> None:
        pass
