"""Which completion requests still matter: for each document the newest one wins.

A request holds a ``Ticket``. The engine polls the ticket (it is the ``cancelled`` callable of
``Engine.complete``) at each step boundary, on the worker thread; the event loop cancels it when the client
sends ``$/cancelRequest``, when a newer request for the same document arrives, or when the document closes.
"""

from __future__ import annotations

import threading

SUPERSEDED = "superseded by a newer request"
CLIENT = "cancelled by the client"
CLOSED = "the document was closed"
SHUTDOWN = "the server is shutting down"


class Ticket:
    """One completion request's cancellation flag; calling it tells whether the request was cancelled."""

    __slots__ = ("uri", "reason", "_cancelled")

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.reason: str | None = None
        self._cancelled = threading.Event()

    def __call__(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self, reason: str) -> None:
        if not self._cancelled.is_set():
            self.reason = reason
            self._cancelled.set()

    def __repr__(self) -> str:
        return f"Ticket({self.uri!r}, reason={self.reason!r})"


class Tickets:
    """The live completion request of each document."""

    def __init__(self) -> None:
        self._live: dict[str, Ticket] = {}

    def issue(self, uri: str) -> Ticket:
        """A ticket for a new request on ``uri``; the previous one there is superseded."""
        self.cancel(uri, SUPERSEDED)
        ticket = self._live[uri] = Ticket(uri)
        return ticket

    def finish(self, ticket: Ticket) -> None:
        """Forget ``ticket`` once its request has been answered."""
        if self._live.get(ticket.uri) is ticket:
            del self._live[ticket.uri]

    def cancel(self, uri: str, reason: str) -> None:
        """Cancel the live request on ``uri``, if any."""
        ticket = self._live.pop(uri, None)
        if ticket is not None:
            ticket.cancel(reason)

    def cancel_all(self, reason: str) -> None:
        for uri in list(self._live):
            self.cancel(uri, reason)

    def __len__(self) -> int:
        return len(self._live)
