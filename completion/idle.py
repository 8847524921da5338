"""Idle-time work: what the worker thread does between requests, one small piece at a time.

The scheduler (scheduler.py) decides which piece is worth doing; this module does it with the engine's
parts. Each piece is one forward of at most a draft tree or BACKGROUND_CHUNK tokens, so a request (or an
edit) that arrives meanwhile waits for at most that: nothing waits on background work.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from kvcomplete.completion import scheduler
from kvcomplete.completion.open_documents import Continuation, OpenDocument
from kvcomplete.completion.prompt.layout import Layout
from kvcomplete.completion.scheduler import Work

if TYPE_CHECKING:
    from kvcomplete.completion.engine import Engine

BACKGROUND_CHUNK = 128  # tokens encoded per piece: what a request arriving meanwhile may wait for


class IdleWork:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def step(self) -> bool:
        """One piece of work for the most recently used document (the scheduler says which); False when
        there is none."""
        engine = self.engine
        doc = next((d for d in reversed(list(engine.documents)) if d.mirror is not None), None)
        if doc is None:
            return False
        jobs = {Work.CONTINUE: self._continue_decoding, Work.PREFETCH: self._prefetch,
                Work.SELECT_CONTEXT: self._select_context, Work.GROW_WINDOW: self._grow_window,
                Work.REFRESH: self._refresh, Work.FIRST_PROPOSALS: engine.next_edits.step}
        try:
            for work in scheduler.for_idle(doc, engine.settings.stale_budget, engine.next_edits.first_due(doc)):
                if jobs[work](doc):
                    engine.statistics.count("backgroundSteps")
                    return True
            if engine.next_edits.step(doc):  # once the cache holds the text (completion/next_edits/)
                engine.statistics.count("backgroundSteps")
                return True
        except Exception:
            doc.drop_cache()  # whatever state the failure left, the next request rebuilds the cache
            raise
        return False

    def _continue_decoding(self, doc: OpenDocument) -> bool:
        """One more step of a decoding cut at the latency budget, while its suggestions can be shown."""
        continuation = doc.continuation
        typed = scheduler.typed_since(continuation, doc) or ""
        continuation.decoding.run(cancelled=lambda: False, max_steps=1)
        self.engine.show(doc, continuation.decoding)
        self.engine.on_suggestions_changed(doc.uri, len(continuation.before) + len(typed))
        return True

    def _prefetch(self, doc: OpenDocument) -> bool:
        """After an accept, once the editor's insertion has arrived: start decoding at the new cursor."""
        before, accepted = doc.prefetch
        doc.prefetch, expected, after = None, before + accepted, doc.shown.after
        offset = len(expected)
        target = self.engine.prepare_cache(doc, offset)
        k, doc.cursor = self.engine.settings.suggestions, offset
        doc.continuation = Continuation(self.engine.start_decoding(doc, target, offset, k, None, lambda: False),
                                        expected, after, k, time.perf_counter())
        self.engine.statistics.count("prefetches")
        return True

    def _select_context(self, doc: OpenDocument) -> bool:
        """Choose the document's context segment again; the next cache update applies the difference."""
        return self.engine.context.select(doc, list(reversed(list(self.engine.documents))))

    def _grow_window(self, doc: OpenDocument) -> bool:
        """Encode the next chunk of the window's tokens that are not cached yet (after didOpen, a jump). Left to
        right only: a FIM prompt depends on where the next request's cursor will be, so requests build it."""
        if self.engine.layout is not Layout.LEFT_TO_RIGHT:
            return False
        offset = min(doc.cursor or 0, len(doc.text))
        target = self.engine.prompts.target(doc, offset, self.engine.context.segment(doc), full=True)
        if doc.session is not None and doc.session.tokens == target.tokens:
            return False
        self.engine.update_cache(doc, target, limit=BACKGROUND_CHUNK)
        return True

    def _refresh(self, doc: OpenDocument) -> bool:
        """Re-encode the next chunk of stale tokens (keys and values computed before an edit in front of them)."""
        doc.session.refresh(limit=BACKGROUND_CHUNK)
        self.engine.statistics.count("refreshes")
        return True
