"""``kvcomplete serve`` as a subprocess over stdio, set up from the command line's Settings, as an editor runs it."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import AsyncIterator

from kvcomplete.completion.config import COMMAND_LINE_ONLY, LSP_KEYS, Settings
from kvcomplete.demo.lsp_client import LspClient


class ServerError(RuntimeError):
    """The server could not load the model or stopped; the message carries what it said."""


def console_script() -> str:
    """The ``kvcomplete`` console script of this interpreter's venv (so the demo runs from any venv). Never
    ``python -m``: that puts the working directory on sys.path, and in a checkout its folders shadow packages."""
    return str(Path(sys.executable).with_name("kvcomplete"))


def serve_command(settings: Settings) -> list[str]:
    """The command line of ``kvcomplete serve``, as an editor runs it."""
    return [console_script(), "serve", *(["--allow-pickle"] if settings.allow_pickle else [])]


def initialization_options(settings: Settings) -> dict:
    """``settings`` as LSP initializationOptions (camelCase keys)."""
    return {key: getattr(settings, name) for key, name in LSP_KEYS.items() if key not in COMMAND_LINE_ONLY}


@contextlib.asynccontextmanager
async def served(settings: Settings, encoding: str = "utf-16") -> AsyncIterator[LspClient]:
    """An initialized client of a fresh server; shut down at the end (killed if that fails)."""
    client = LspClient("kvcomplete-demo")
    await client.start(serve_command(settings))
    try:
        await client.initialize(initialization_options(settings), encodings=[encoding])
        yield client
        code = await client.stop_server()
        if code != 0:
            raise ServerError(f"the server exited with code {code}: {last_lines(client.stderr_text())}")
    finally:
        await client.kill()


async def wait_for_model(client: LspClient, uri: str) -> None:
    """Return once the server's engine holds ``uri`` (the model is loaded); ServerError if it failed to load.

    ``kvcomplete/document`` runs on the engine thread after the model load, so it answers once that is over.
    """
    state = await client.document(uri)
    if state is None or state["engineInSync"] is not True:
        shown = "; ".join(message.message for message in client.shown_messages)
        raise ServerError(shown or f"the server has no engine for {uri}: {last_lines(client.stderr_text())}")


def last_lines(text: str, count: int = 5) -> str:
    return " | ".join(text.strip().splitlines()[-count:]) or "(no output)"
