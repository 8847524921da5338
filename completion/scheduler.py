"""The one place that decides what the engine runs next: for a request, and when the worker is idle.

A request takes the cheapest answer that is right: a decoding cut at the latency budget at this very spot
resumes (RESUME); suggestions the user is typing along answer without a forward (TYPE_ALONG); otherwise
the cache is brought to the prompt and a new decoding starts (DECODE).

Idle work goes to the most recently used document, most valuable first: carry on a decoding whose
suggestions are still on screen (CONTINUE), start decoding after an accept once the editor's insertion has
arrived (PREFETCH), choose the context segment again (SELECT_CONTEXT), encode the window's missing tokens
(GROW_WINDOW), re-encode stale ones (REFRESH). An edit's first next-edit proposals (FIRST_PROPOSALS) come
before all of these but a live decoding or a pending prefetch. The engine runs each piece as one small forward, so a request
arriving meanwhile waits for at most that. The decisions read the documents' state only; deciding also
forgets what can no longer be used (a continuation the user typed away from, a prefetch overtaken by edits).
"""

from __future__ import annotations

import enum
from typing import Iterator

from kvcomplete.completion.open_documents import Continuation, OpenDocument


class Work(enum.Enum):
    RESUME = "resume"
    TYPE_ALONG = "type_along"
    DECODE = "decode"
    CONTINUE = "continue"
    PREFETCH = "prefetch"
    SELECT_CONTEXT = "select_context"
    GROW_WINDOW = "grow_window"
    REFRESH = "refresh"
    FIRST_PROPOSALS = "first_proposals"


def for_request(doc: OpenDocument, before: str, after: str, k: int) -> Work:
    """How to answer a request with ``before`` / ``after`` the cursor, for ``k`` suggestions."""
    continuation = doc.continuation
    if continuation is not None and (continuation.before, continuation.after, continuation.k) == (before, after, k):
        return Work.RESUME
    if doc.shown is not None and doc.shown.continued(before, after):
        return Work.TYPE_ALONG
    return Work.DECODE


def for_idle(doc: OpenDocument, stale_budget: int, first_proposals_due: bool = False) -> Iterator[Work]:
    """The idle work worth trying for ``doc``, most valuable first (a piece may still find nothing to do:
    the window may be complete already). ``first_proposals_due``: the last edit's first next-edit scoring
    forward is still to come; it goes before the window's growth and refresh, after the ghost text."""
    if doc.continuation is not None and typed_since(doc.continuation, doc) is None:
        doc.continuation = None  # the user typed away from its suggestions
    if first_proposals_due and doc.continuation is None and doc.prefetch is None:
        yield Work.FIRST_PROPOSALS
    if doc.continuation is not None:
        yield Work.CONTINUE
    if _prefetch_ready(doc):
        yield Work.PREFETCH
    if doc.context_due:
        yield Work.SELECT_CONTEXT
    if doc.continuation is None:  # its scratch lives behind the cache: cache work would overwrite it
        yield Work.GROW_WINDOW
        if _refresh_due(doc, stale_budget):
            yield Work.REFRESH


def typed_since(continuation: Continuation, doc: OpenDocument) -> str | None:
    """What was typed at the continuation's cursor since, when that follows one of the suggestions shown
    (or nothing was typed); None when the text moved on some other way."""
    before, after, text = continuation.before, continuation.after, doc.text
    if len(text) < len(before) + len(after) or not text.startswith(before) or not text.endswith(after):
        return None
    typed = text[len(before): len(text) - len(after)]
    shown = doc.shown.suggestions if doc.shown is not None else ()
    return typed if not typed or any(s.text.startswith(typed) for s in shown) else None


def _prefetch_ready(doc: OpenDocument) -> bool:
    """After an accept: whether the editor's insertion has arrived (then decode at the new cursor). A
    prefetch that the text moved past some other way is dropped."""
    if doc.prefetch is None or doc.shown is None:
        return False
    before, accepted = doc.prefetch
    after = doc.shown.after
    if doc.text == before + accepted + after:
        return True
    if doc.text != before + after:
        doc.prefetch = None
    return False  # else the insertion has not arrived yet


def _refresh_due(doc: OpenDocument, stale_budget: int) -> bool:
    """Stale tokens (computed before an edit in front of them) before the cursor, or more than the budget."""
    session = doc.session
    if session is None or session.stale_count() == 0:
        return False
    return session.stale_count(doc.visible_slots) > 0 or session.stale_count() > stale_budget
