"""The newest completion request of each document wins; the others are told why they stopped."""

from kvcomplete.lsp_server.cancellation import CLIENT, CLOSED, SHUTDOWN, SUPERSEDED, Tickets


def test_a_newer_request_supersedes_the_live_one_of_its_document_only():
    tickets = Tickets()
    first, other = tickets.issue("file:///a.py"), tickets.issue("file:///b.py")
    second = tickets.issue("file:///a.py")
    assert first() and first.reason == SUPERSEDED
    assert not second() and not other()


def test_finishing_forgets_only_the_live_ticket():
    tickets = Tickets()
    first = tickets.issue("file:///a.py")
    second = tickets.issue("file:///a.py")
    tickets.finish(first)  # the superseded one answers late: the live one stays
    assert len(tickets) == 1
    tickets.finish(second)
    assert len(tickets) == 0 and not second()


def test_the_first_reason_sticks():
    tickets = Tickets()
    ticket = tickets.issue("file:///a.py")
    ticket.cancel(CLIENT)
    ticket.cancel(SUPERSEDED)
    assert ticket.reason == CLIENT


def test_closing_and_shutting_down_cancel():
    tickets = Tickets()
    a, b = tickets.issue("file:///a.py"), tickets.issue("file:///b.py")
    tickets.cancel("file:///a.py", CLOSED)
    assert a.reason == CLOSED and not b()
    tickets.cancel_all(SHUTDOWN)
    assert b.reason == SHUTDOWN and len(tickets) == 0
