"""Model loading shown as work-done progress (``$/progress``), when the client supports it.

The load starts during ``initialize``; progress can only be created after it (``window/workDoneProgress/create``
is a request to the client), so the latest state is kept and shown as soon as the token exists. A load that
ends before then is never shown.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from lsprotocol import types

logger = logging.getLogger(__name__)
TITLE = "kvcomplete: loading the model"


class LoadProgress:
    """The progress of the model load (or other work: ``title``) under way, if any, shown to a client that
    supports it."""

    def __init__(self, server, title: str = TITLE) -> None:
        self._server = server
        self._title = title
        self._supported = False
        self._loading = False
        self._latest: tuple[str, float | None] = ("starting", None)
        self._token: str | None = None
        self._opening: asyncio.Task | None = None

    def client_ready(self, supported: bool) -> None:
        """The client finished initializing; ``supported``: it accepts server-created progress."""
        self._supported = supported
        if self._loading:
            self._open()

    def started(self) -> None:
        self._loading = True
        self._latest = ("starting", None)
        if self._supported:
            self._open()

    def report(self, message: str, fraction: float | None) -> None:
        self._latest = (message, fraction)
        if self._token is not None:
            self._send(types.WorkDoneProgressReport(message=message, percentage=_percent(fraction)))

    def finished(self, message: str) -> None:
        self._loading = False
        if self._token is not None:
            self._send(types.WorkDoneProgressEnd(message=message))
            self._token = None

    def _open(self) -> None:
        if self._token is None and (self._opening is None or self._opening.done()):
            self._opening = asyncio.ensure_future(self._create())

    async def _create(self) -> None:
        token = f"kvcomplete-load-{uuid.uuid4()}"
        try:
            await self._server.work_done_progress.create_async(token)
        except Exception as error:  # the client refused: no progress shown, nothing else changes
            logger.debug("no work-done progress: %s", error)
            return
        if self._loading:
            self._token = token
            message, fraction = self._latest
            self._send(types.WorkDoneProgressBegin(title=self._title, message=message, percentage=_percent(fraction)))

    def _send(self, value) -> None:
        self._server.progress(types.ProgressParams(token=self._token, value=value))


def _percent(fraction: float | None) -> int | None:
    return None if fraction is None else max(0, min(100, round(fraction * 100)))
