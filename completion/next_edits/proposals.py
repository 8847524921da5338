"""The engine's next-edits component: after an edit, find the candidates, score them on the warm cache in
small background steps, and hand the best ones to the editor.

Per document, one job follows the last edit (edits.py): any change starts a new one. Each step is one
small piece, so a request arriving meanwhile waits for at most one: finding the candidates (two tree-sitter
parses), bringing the cache to the current text (one chunk, as the window's background growth does; the
window is the completions', at the cursor, or at the edit before any request), or one scoring forward of at
most NODES_PER_STEP scratch nodes. Scoring starts once the cache holds the window up to the edit (places
after what it holds are scored behind it), and the candidates and the first forward come before any other
background work (``first_due``, the scheduler's FIRST_PROPOSALS): the best places do not wait for the window's growth or its refresh. After
each scoring forward the proposals so far (``proposals``: best first, at most ``maxNextEdits``) are announced
when they changed (``on_next_edits_ready``). Scoring writes only scratch, so it waits while a cut decoding still
lives there (background) or ends that decoding (an explicit request).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kvcomplete.completion.idle import BACKGROUND_CHUNK
from kvcomplete.completion.next_edits.candidates import DEFINITION, RENAME, WORD, Candidate, find_candidates
from kvcomplete.completion.next_edits.edits import LastEdit
from kvcomplete.completion.next_edits.scoring import SlotMap, Spans, score, spans
from kvcomplete.completion.open_documents import OpenDocument
from kvcomplete.completion.prompt.builder import Target
from kvcomplete.completion.prompt.layout import Layout

if TYPE_CHECKING:
    from kvcomplete.completion.engine import Engine

NODES_PER_STEP = 64  # scratch nodes per scoring forward: about a draft tree's, what a request may wait for
FIRST_STEP_NODES = 16  # the first forward of an edit is smaller: its best places reach the editor sooner
FEEDBACK = {"accepted": "nextEditsAccepted", "dismissed": "nextEditsDismissed"}
# A pure insertion (nothing but blanks old at its place, or old code kept whole with more around it: an ``r``
# before a string's quotes) pays log p of each token it adds while its old side pays none, so even a right one
# scores far below a rename: it is kept above the threshold minus this (nats).
INSERTION_ALLOWANCE = 14.0
# A pure deletion's wrong places score nearly as well as its right ones (the model reads code well with less
# in it): it needs this much more than the threshold.
DELETION_MARGIN = 2.0
# Proposals are kept within this many nats of the best scored one: where one place is clearly the same change
# (its context repeats the edit's), places the model merely does not mind are not proposed with it.
BEST_GAP = 4.0
# Pure deletions and words of strings, comments and numbers are kept within this of the best: the model minds
# them at wrong places even less (``, httpbin`` deleted at 64 places scored +4.7 to +7 with the window at the
# edit, the right ones among them; ``1`` → ``2`` at 16 places +2.8 to −1).
NARROW_GAP = 2.0
# Renames are judged as a set: once one place of a rename scores this much above the threshold (the model reads
# the new name there as clearly right), its other places need only score above the threshold minus
# RENAME_ALLOWANCE, however far below the best (a mass rename's first place scores +8 to +30, the rest less).
RENAME_SURE = 3.0
RENAME_ALLOWANCE = 3.0
# A renamed import or module-level definition leaves every other use of the old name dangling: its places need
# only score above the threshold minus this, whatever the best (the model orders them; it keeps out nonsense).
DEFINITION_ALLOWANCE = 9.0
# A replacement made identically at every place (the same old and new text) is judged as a set as a rename is
# (RENAME_SURE, RENAME_ALLOWANCE) at the places matched with at least this many anchors: with fewer, ``==`` → ``is``
# sure at one place scored −1.9 to −3 at wrong ones. Pure deletions and insertions are not: a deletion's wrong
# places score as well as its right ones (+4.7 to +7), and insertions as a set raised the tuning recall but cost
# the held-out precision (0.84 → 0.71).
SET_ANCHORS = 2


@dataclass(frozen=True, slots=True)
class Proposal:
    """Replace code points [start, end) of the text (now ``old``) with ``new``; ``score`` in nats."""

    start: int
    end: int
    old: str
    new: str
    score: float
    line: int | None = None  # of the proposals of one line, only the best is handed out
    kind: str | None = None  # the edit's (candidates.py): which margin applies
    anchors: int = 0  # leaves matched around the place (candidates.py): how specific the match is


@dataclass(slots=True)
class _Job:
    """The proposals for one edit of one document, as far as they are scored."""

    edit: LastEdit
    candidates: list[Candidate]
    scored: list[Proposal] = field(default_factory=list)
    next: int = 0  # candidates[:next] are scored (or could not be)
    shown: list[Proposal] = field(default_factory=list)  # the last set announced or answered

    @property
    def done(self) -> bool:
        return self.next >= len(self.candidates)


class NextEdits:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._jobs: dict[str, _Job] = {}

    def step(self, doc: OpenDocument, announce: bool = True) -> bool:
        """One piece of next-edits work for ``doc``; False when there is none (or background work is off)."""
        engine = self.engine
        edit = doc.last_edit
        if (announce and not engine.settings.next_edits) or edit is None or doc.mirror is None \
                or doc.continuation is not None:
            return False
        job = self._jobs.get(doc.uri)
        if job is None or job.edit is not edit:
            self._jobs = {uri: job for uri, job in self._jobs.items() if uri in engine.documents}
            self._jobs[doc.uri] = _Job(edit, find_candidates(doc.text, edit, doc.language))
            return True
        if job.done:
            return False
        if doc.cursor is None:  # no request yet: the window goes to the edit (the window's growth follows)
            doc.cursor = edit.end
        offset = min(doc.cursor, len(doc.text))
        context = engine.context.segment(doc)
        target = engine.prompts.target(doc, offset, context, full=True)
        cached = self._cached_part(doc, target, len(context))
        if cached is None:  # before the first forward, only up to the edit if that is short of it: growth can wait
            ahead = target if job.scored else engine.prompts.target(doc, max(offset, edit.end), context)
            held = doc.session is not None and doc.session.tokens == ahead.tokens
            engine.update_cache(doc, target if held else ahead, limit=BACKGROUND_CHUNK)
            return True
        self._score_next(doc, job, self.cached_slots(doc, target, offset, len(context), cached))
        proposals = self.proposals(job)
        if announce and proposals and proposals != job.shown:
            self._announce(doc, job, proposals)
        if job.done:
            engine.statistics.count("nextEditsProposed", len(proposals))
        return True

    def first_due(self, doc: OpenDocument) -> bool:
        """Whether ``doc``'s last edit still waits for its first scoring forward (the scheduler then puts its
        steps before other background work: the best places do not wait for the window's growth)."""
        job = self._jobs.get(doc.uri)
        return doc.last_edit is not None and (job is None or job.edit is not doc.last_edit or not job.scored)

    def _cached_part(self, doc: OpenDocument, target: Target, context: int) -> int | None:
        """How many of ``target``'s tokens the cache holds, when it can be scored on: all of them, or left to
        right a first part that reaches past the edit (the window's growth after it is still to come); else
        None (the cache must be brought to ``target`` first)."""
        cached = doc.session.tokens if doc.session is not None else None
        if cached is None or len(cached) > len(target.tokens) or cached != target.tokens[: len(cached)]:
            return None
        if len(cached) == len(target.tokens):
            return len(cached)
        if self.engine.layout is not Layout.LEFT_TO_RIGHT:
            return None
        window, mirror = target.window, doc.mirror
        edit = doc.last_edit
        last = mirror.token_index_at(mirror.byte_offset(max(edit.start, edit.end - 1)))  # the edit's last token
        return len(cached) if window.start + len(cached) - context > min(last, window.end - 1) else None

    def _announce(self, doc: OpenDocument, job: _Job, proposals: list[Proposal]) -> None:
        """Hand a new set to the editor; the first one of an edit times how long it took."""
        if not job.shown:
            self.engine.statistics.time("nextEditsReady", (time.perf_counter() - job.edit.changed_at) * 1000)
        job.shown = proposals
        self.engine.on_next_edits_ready(doc.uri, doc.text, proposals)

    def cached_slots(self, doc: OpenDocument, target: Target, offset: int, context: int,
                     cached: int | None = None) -> SlotMap:
        """Where the document's tokens sit in the cached prompt: left to right the window's ``cached`` first
        tokens (default: all) after the context segment (and places after them are scored behind them); in a
        FIM layout the window's part before the cursor (``before``)."""
        window, layout = target.window, self.engine.layout
        if layout is Layout.LEFT_TO_RIGHT:
            cached = len(target.tokens) if cached is None else cached
            edit = doc.mirror.token_index_at(doc.mirror.byte_offset(doc.last_edit.start))
            return SlotMap(window.start, window.start + cached - context, context, after_slot=cached, edit_token=edit)
        cursor = self.engine.prompts.split(doc.mirror, offset).prompt_length
        first = context + 1 if layout is Layout.PSM else len(target.tokens) - (cursor - window.start)
        return SlotMap(window.start, cursor, first)

    def _score_next(self, doc: OpenDocument, job: _Job, slots: SlotMap) -> None:
        """Score the next candidates, as many as NODES_PER_STEP scratch nodes hold (FIRST_STEP_NODES for the
        first ones; at least one)."""
        batch: list[tuple[Candidate, Spans]] = []
        nodes, most = 0, NODES_PER_STEP if job.scored else FIRST_STEP_NODES
        while not job.done:
            candidate = job.candidates[job.next]
            item = spans(candidate, doc.mirror, slots)
            if item is not None and batch and nodes + item.nodes > most:
                break
            job.next += 1
            if item is not None:
                batch.append((candidate, item))
                nodes += item.nodes
        if not batch:
            return
        scores = score(self.engine.runner, doc.session.store, [item for _, item in batch])
        job.scored += [Proposal(c.start, c.end, c.old, c.new, round(s, 4), c.line, c.kind, c.anchors)
                       for (c, _), s in zip(batch, scores)]

    def proposals(self, job: _Job) -> list[Proposal]:
        """The scored candidates above the threshold (pure insertions: INSERTION_ALLOWANCE below it, pure
        deletions: DELETION_MARGIN above it) and within BEST_GAP of the best, except renames (their own rule:
        ``_kept``, and changes made identically at every place), best first, one per line, at most maxNextEdits."""
        threshold = self.engine.settings.next_edits_threshold
        top = max((p.score for p in job.scored), default=0.0)
        same: dict[tuple[str, str], float] = {}  # the best score of each identical change
        for p in job.scored:
            change = _change(p)
            same[change] = max(p.score, same.get(change, p.score))
        kept = [p for p in job.scored if _kept(p, threshold, top, same[_change(p)])]
        chosen, lines = [], set()
        for proposal in sorted(kept, key=lambda p: -p.score):
            if proposal.line is None or proposal.line not in lines:
                chosen.append(proposal)
                lines.add(proposal.line)
        return chosen[: self.engine.settings.max_next_edits]

    def request(self, uri: str, budget_ms: float) -> tuple[str, list[Proposal]]:
        """The document's text and the proposals for its last edit, computed as far as ``budget_ms`` allows
        (background work goes on with the rest). A decoding cut at the latency budget is ended: its scratch
        is needed."""
        started = time.perf_counter()
        engine = self.engine
        doc = engine.documents[uri]
        engine.statistics.count("nextEditsRequests")
        doc.continuation = None
        while time.perf_counter() - started < budget_ms / 1000 and self.step(doc, announce=False):
            pass
        job = self._jobs.get(uri)
        current = job is not None and job.edit is doc.last_edit
        proposals = self.proposals(job) if current else []
        if current:
            job.shown = proposals or job.shown
        engine.statistics.time("nextEditsRequest", (time.perf_counter() - started) * 1000)
        return doc.text, proposals

    def feedback(self, action: str) -> None:
        """The user accepted or dismissed a proposal."""
        self.engine.statistics.count(FEEDBACK[action])


def _change(proposal: Proposal) -> tuple[str, str]:
    """What ``proposal`` replaces and with what, blanks around them aside: the same at every place of one change."""
    return proposal.old.strip(), proposal.new.strip()


def _kept(proposal: Proposal, threshold: float, top: float, same: float) -> bool:
    """Whether ``proposal`` is handed out, ``top`` the best score of its set and ``same`` the best of its places
    making the identical change: a renamed definition's places above the threshold minus DEFINITION_ALLOWANCE; a
    rename's above the threshold minus RENAME_ALLOWANCE once its best is RENAME_SURE above the threshold, and so a
    replacement's places matched with SET_ANCHORS once ``same`` is; any other within BEST_GAP of the best (a pure
    deletion or a word: NARROW_GAP) and above the threshold, with the margin of its kind."""
    score, old, new = proposal.score, proposal.old, proposal.new
    if proposal.kind == DEFINITION:
        return score > threshold - DEFINITION_ALLOWANCE
    inserts = not old.strip() or proposal.kind is None and new != old and (new.startswith(old) or new.endswith(old))
    replaces = proposal.kind is None and bool(new) and not inserts and proposal.anchors >= SET_ANCHORS
    if proposal.kind == RENAME and top >= threshold + RENAME_SURE or replaces and same >= threshold + RENAME_SURE:
        return score > threshold - RENAME_ALLOWANCE
    margin = INSERTION_ALLOWANCE if inserts else -DELETION_MARGIN if not new else 0.0
    gap = NARROW_GAP if not new or proposal.kind == WORD else BEST_GAP
    return top - gap < score and score > threshold - margin
