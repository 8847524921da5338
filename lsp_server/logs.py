"""Logs go to stderr and, once a client is connected, to it as ``window/logMessage``, at the configured level.

Only kvcomplete's own loggers reach the client. pygls logs every message it sends at INFO, so it stays at
WARNING (and on stderr only): forwarding it would log each logMessage it sends, forever.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from lsprotocol import types

LEVELS = {"error": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO, "debug": logging.DEBUG}
OWN_LOGGERS = ("kvcomplete",)  # every module logs under its dotted name in the one namespace


def configure(level: str) -> None:
    """Log to stderr (unless the command line set up logging already) at ``level`` for kvcomplete's loggers."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    logging.getLogger("pygls").setLevel(logging.WARNING)
    set_level(level)


def set_level(level: str) -> None:
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(LEVELS[level])


def message_type(levelno: int) -> types.MessageType:
    if levelno >= logging.ERROR:
        return types.MessageType.Error
    if levelno >= logging.WARNING:
        return types.MessageType.Warning
    if levelno >= logging.INFO:
        return types.MessageType.Info
    return types.MessageType.Log


class ClientLogHandler(logging.Handler):
    """Sends records to the client as ``window/logMessage``; safe from any thread (it posts to the loop)."""

    def __init__(self, send, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._send = send
        self._loop = loop
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        params = types.LogMessageParams(type=message_type(record.levelno), message=self.format(record))
        try:
            self._loop.call_soon_threadsafe(self._send, params)
        except RuntimeError:  # the loop has closed: stderr still has the record
            pass

    def attach(self) -> None:
        for name in OWN_LOGGERS:
            logging.getLogger(name).addHandler(self)

    def detach(self) -> None:
        for name in OWN_LOGGERS:
            logging.getLogger(name).removeHandler(self)
