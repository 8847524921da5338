"""The engine: documents, their KV sessions, and completion requests. Owned by ONE worker thread.

A request reads in a few lines: bring the document's cache up to date (coalesced token edits, PIE),
refresh it if too stale, build the healed prompt and stop rule, decode k suggestions.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Sequence

from completion import models
from completion.config import Settings
from completion.decode import Cancelled, Prompt, decode
from completion.budget import SpeculationBudget
from completion.document import Document, TextChange, TokenEdit, coalesce
from completion.drafts.copyspec import CopySpec
from completion.drafts.ngram import NGramModel
from completion.drafts.superposed import SuperposedDrafter
from completion.layout import FimTokens, Layout, Segments, choose_layout, fim_segments, flatten, segment_edits
from completion.models import ModelError
from completion.runner import ModelRunner
from completion.session import EditMode, Session
from completion.speculation import RequestDrafts
from completion.stops import StopRule
from completion.syntax import context_at, language_of
from completion.vocab import Vocabulary

DRAFTERS = ("copy", "superposed")
SUGGESTION_CONTEXT = 4  # prompt tokens kept in front of a past suggestion in CopySpec's history

__all__ = ["Engine", "Completion", "Suggestion", "TextChange", "Cancelled", "UnknownDocument", "ModelError"]


class UnknownDocument(KeyError):
    """A request named a document that is not open."""

    def __str__(self) -> str:
        return f"document not open: {self.args[0]}"


@dataclass(frozen=True, slots=True)
class Suggestion:
    text: str  # inserted at the cursor
    logprob: float


@dataclass(slots=True)
class Completion:
    suggestions: list[Suggestion]
    timings_ms: dict[str, float] = field(default_factory=dict)
    reason: str | None = None  # why there are none, when that is not the model's choice


@dataclass(slots=True)
class OpenDocument:
    """An open document; ``mirror`` is None for binary or too large ones (text tracked, never completed)."""

    uri: str
    text: str
    language: str | None
    mirror: Document | None = None
    session: Session | None = None
    pending: list[TokenEdit] = field(default_factory=list)
    segments: Segments = ()  # a FIM layout's prompt as the session holds it
    skip_reason: str | None = None
    indexed_version: int = -1  # mirror version last given to the drafters' indexes
    shown: Shown | None = None  # the last suggestions, for type-along


@dataclass(frozen=True, slots=True)
class Shown:
    """Suggestions as shown: the text around the cursor then, to recognise typing along one of them."""

    before: str
    after: str
    suggestions: tuple[Suggestion, ...]

    def continued(self, before: str, after: str) -> list[Suggestion]:
        """The rest of each suggestion the user has been typing along (empty when they left them)."""
        if after != self.after or not before.startswith(self.before):
            return []
        typed = before[len(self.before):]
        return [Suggestion(s.text[len(typed):], s.logprob) for s in self.suggestions
                if s.text.startswith(typed) and len(s.text) > len(typed)]


def completable(text: str, settings: Settings) -> str | None:
    """Why a document gets no completions (binary, not Unicode, too large), or None."""
    if "\x00" in text:
        return "binary file"
    if text.isascii():  # the common case, without encoding a large text on every keystroke
        size = len(text)
    else:
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:
            return "not valid Unicode text"
    if size > settings.max_file_bytes:
        return f"larger than maxFileBytes ({settings.max_file_bytes})"
    return None


class Engine:
    def __init__(self, settings: Settings, progress: models.Progress | None = None,
                 loaded: models.LoadedModel | None = None) -> None:
        """Loads the model named by ``settings`` unless an already ``loaded`` one is shared in."""
        self.settings = settings
        loaded = loaded or models.load(settings, progress)
        fim = models.fim_tokens(loaded.tokenizer)
        self.layout = _layout(settings, fim, loaded)
        self._adopt(loaded, fim, settings)
        self.documents: OrderedDict[str, OpenDocument] = OrderedDict()  # least recently used first
        self.copyspec = CopySpec()
        self.ngram = NGramModel()
        self.budget = SpeculationBudget()
        self.drafters = set(DRAFTERS)  # which drafters speculation uses (benchmarks compare subsets)
        self.counters = {"editsApplied": 0, "pieUpdates": 0, "fullEncodes": 0, "draftTokensProposed": 0,
                         "draftTokensAccepted": 0, "accepts": 0, "evictions": 0, "refreshes": 0,
                         "forwards": 0, "tokensGenerated": 0}

    def _adopt(self, loaded: models.LoadedModel, fim: FimTokens | None, settings: Settings) -> None:
        """Use ``loaded``: its runner and vocabulary, and what is looked up once per model rather than per
        request (FIM token ids, the facts of ``info`` that ``kvcomplete/stats`` reports)."""
        self.loaded, self.fim = loaded, fim
        self.runner = ModelRunner(loaded, settings.kernels)
        self.vocab = Vocabulary(loaded.tokenizer)
        self.info = loaded.info()

    @property
    def edit_mode(self) -> EditMode:
        return EditMode.PIE if self.settings.pie else EditMode.REENCODE

    # -- documents -------------------------------------------------------------------------------------
    def open(self, uri: str, text: str, language_id: str | None = None) -> None:
        self.documents[uri] = OpenDocument(uri=uri, text=text, language=language_of(uri, language_id))
        self._track(self.documents[uri])

    def _track(self, doc: OpenDocument) -> None:
        """(Re)build the token mirror, or drop it when the text is not completable."""
        doc.skip_reason = completable(doc.text, self.settings)
        doc.mirror = None if doc.skip_reason else Document(self.vocab, doc.text)
        doc.session, doc.pending, doc.segments = None, [], ()

    def change(self, uri: str, changes: Sequence[TextChange]) -> None:
        doc = self._get(uri)
        for change in changes:
            if not 0 <= change.start <= change.end <= len(doc.text):
                raise ValueError(f"change [{change.start}, {change.end}) is outside {uri} (length {len(doc.text)})")
            doc.text = doc.text[: change.start] + change.text + doc.text[change.end:]
            self.counters["editsApplied"] += 1
            if doc.mirror is not None and completable(change.text, self.settings) is None:
                edit = doc.mirror.apply(change)
                if edit is not None and doc.session is not None and self.layout is Layout.LEFT_TO_RIGHT:
                    doc.pending.append(edit)
            else:
                doc.mirror = None
        if doc.mirror is None or completable(doc.text, self.settings) is not None:
            self._track(doc)

    def close(self, uri: str) -> None:
        if self.documents.pop(uri, None) is not None:
            self.copyspec.remove_source(uri)
            self.ngram.remove_source(uri)

    def index_file(self, key: str, text: str) -> None:
        """Add a workspace file (not open) to the drafters' sources: CopySpec matches and n-gram counts."""
        if completable(text, self.settings) is None:
            tokens = self.vocab.encode(text)
            self.copyspec.set_source(key, tokens)
            self.ngram.set_source(key, tokens)

    def _index_open_documents(self) -> None:
        """Give the drafters every open document's current tokens (only those that changed)."""
        for doc in self.documents.values():
            if doc.mirror is not None and doc.indexed_version != doc.mirror.version:
                self.copyspec.set_source(doc.uri, doc.mirror.tokens)
                self.ngram.set_source(doc.uri, doc.mirror.tokens)
                doc.indexed_version = doc.mirror.version

    def text(self, uri: str) -> str:
        return self._get(uri).text

    def _get(self, uri: str) -> OpenDocument:
        if uri not in self.documents:
            raise UnknownDocument(uri)
        return self.documents[uri]

    def accept(self, uri: str, accepted_text: str) -> None:
        """A suggestion (or part of it) the user accepted; the coming didChange carries the text itself."""
        self._get(uri)
        self.counters["accepts"] += 1

    # -- cache -----------------------------------------------------------------------------------------
    def _session(self, doc: OpenDocument, tokens: list[int], edits: Sequence[TokenEdit]) -> Session:
        """The document's session caching ``tokens``: new, or updated by ``edits`` (one PIE update each)."""
        if doc.session is None:
            doc.session = Session(self.runner, tokens, self.edit_mode)
            self.counters["fullEncodes"] += 1
            self._enforce_budget(keep=doc.uri)
        else:
            for edit in edits:
                doc.session.apply(edit)
                self.counters["pieUpdates" if self.settings.pie else "fullEncodes"] += 1
        doc.pending = []
        assert doc.session.tokens == tokens, "KV session out of step with the document"
        return doc.session

    def _prepare(self, doc: OpenDocument, offset: int) -> tuple[Session, Prompt]:
        """The session brought up to date for a request at ``offset``, and the prompt it holds."""
        mirror = doc.mirror
        length, healed = self._healed_prompt(mirror, offset)
        if self.layout is Layout.LEFT_TO_RIGHT:
            session = self._session(doc, mirror.tokens, coalesce(doc.pending))
            return session, self._prompt(mirror.tokens, length, healed)
        before = mirror.tokens[:length]
        segments = fim_segments(self.layout, self.fim, before, self._tokens_after(mirror, offset))
        tokens = flatten(segments)
        session = self._session(doc, tokens, segment_edits(doc.segments, segments) if doc.segments else ())
        doc.segments = segments
        return session, Prompt(prefix_len=len(tokens) - 1, last_token=tokens[-1], last_position=len(tokens) - 1,
                               healed=healed, context=tuple(before))

    def _tokens_after(self, mirror: Document, offset: int) -> list[int]:
        """The tokens of the text after the cursor: the document's, but the cut token re-tokenized."""
        index, partial = mirror.split_at(offset)
        if not partial:
            return mirror.tokens[index:]
        rest, index = self.vocab.bytes_of[mirror.tokens[index]][len(partial):], index + 1
        while True:  # a token may end inside a character that the next token completes
            try:
                return self.vocab.encode(rest.decode("utf-8")) + mirror.tokens[index:]
            except UnicodeDecodeError:
                rest, index = rest + self.vocab.bytes_of[mirror.tokens[index]], index + 1

    def _enforce_budget(self, keep: str) -> None:
        """Evict the least recently used documents' caches while the total is over kvBudgetMB."""
        budget = self.settings.kv_budget_mb * 2**20
        for doc in list(self.documents.values()):
            total = sum(d.session.nbytes() for d in self.documents.values() if d.session is not None)
            if total <= budget:
                return
            if doc.uri != keep and doc.session is not None:
                doc.session, doc.pending, doc.segments = None, [], ()
                self.counters["evictions"] += 1

    # -- completion ------------------------------------------------------------------------------------
    def complete(self, uri: str, offset: int, k: int | None = None, max_tokens: int | None = None,
                 cancelled: Callable[[], bool] = lambda: False) -> Completion:
        doc = self._get(uri)
        if not 0 <= offset <= len(doc.text):
            raise ValueError(f"offset {offset} is outside {uri} (length {len(doc.text)})")
        if doc.skip_reason:
            return Completion([], reason=doc.skip_reason)
        self.documents.move_to_end(uri)
        started = time.perf_counter()
        before, after = doc.text[:offset], doc.text[offset:]
        if doc.shown is not None and (rest := doc.shown.continued(before, after)):
            return Completion(rest[: k or self.settings.suggestions], {"type_along": _ms_since(started), "total": _ms_since(started)})
        timings: dict[str, float] = {}
        session, prompt = self._prepare(doc, offset)
        if session.stale_count(prompt.prefix_len + 1) > self.settings.stale_budget:
            session.refresh()
            self.counters["refreshes"] += 1
        timings["cache_update"] = _ms_since(started)
        stop = StopRule.at(doc.text, offset, context_at(doc.text, offset, doc.language))
        decode_started = time.perf_counter()
        count = k or self.settings.suggestions
        drafting = self._drafting(doc, count) if self.settings.speculation and self.drafters else None
        branches, stats = decode(self.runner, session.store, prompt, self.vocab, stop, count,
                                 max_tokens or self.settings.max_tokens, cancelled, drafting,
                                 self.budget if drafting else None)
        timings["decode"] = _ms_since(decode_started)
        timings["total"] = _ms_since(started)
        self.counters["draftTokensProposed"] += stats.draft_tokens_proposed
        self.counters["draftTokensAccepted"] += stats.draft_tokens_accepted
        self.counters["forwards"] += stats.forwards
        self.counters["tokensGenerated"] += sum(len(branch.tokens) for branch in branches)
        for branch in branches:  # with a little context before it, so a later request can match into it
            self.copyspec.add_suggestion(prompt.context[-SUGGESTION_CONTEXT:] + tuple(branch.tokens))
        suggestions = _distinct(branches)
        doc.shown = Shown(before, after, tuple(suggestions))
        return Completion(suggestions, timings)

    def _drafting(self, doc: OpenDocument, k: int) -> RequestDrafts:
        self._index_open_documents()
        copy = self.copyspec if "copy" in self.drafters else None
        superposed = SuperposedDrafter(self.ngram, k=k) if k > 1 and "superposed" in self.drafters else None
        return RequestDrafts(copy, superposed, self.vocab, self.runner.embed, doc.uri)

    def _healed_prompt(self, mirror: Document, offset: int) -> tuple[int, bytes]:
        """Token healing: the prompt ends at the last token boundary before the cursor, minus one token.

        The cursor's token may merge with what comes next (newline + indentation, a half-typed word), so
        the prompt backs off and the suggestion must first reproduce the removed bytes.
        """
        index, partial = mirror.split_at(offset)
        if not partial and index > 0 and mirror.tokens[index - 1] not in self.vocab.special_ids:
            index -= 1
            partial = self.vocab.bytes_of[mirror.tokens[index]]
        return index, partial

    def _prompt(self, tokens: list[int], length: int, healed: bytes) -> Prompt:
        if length == 0:  # nothing before the cursor: start from BOS (or EOS, the usual document separator)
            start = self.loaded.tokenizer.bos_token_id
            start = self.loaded.tokenizer.eos_token_id if start is None else start
            return Prompt(prefix_len=0, last_token=start, last_position=0, healed=healed, context=(start,))
        return Prompt(prefix_len=length - 1, last_token=tokens[length - 1], last_position=length - 1,
                      healed=healed, context=tuple(tokens[:length]))

    def stats(self) -> dict:
        return {**self.counters, "tokensEncoded": self.runner.tokens_encoded,
                "kvBytes": sum(d.session.nbytes() for d in self.documents.values() if d.session)}

    def reconfigure(self, settings: Settings) -> None:
        """Apply new settings; the model is reloaded only when model, device or dtype changed."""
        reload = (settings.model, settings.device, settings.dtype) != (
            self.settings.model, self.settings.device, self.settings.dtype)
        loaded = models.load(settings) if reload else self.loaded
        fim = models.fim_tokens(loaded.tokenizer) if reload else self.fim
        layout = _layout(settings, fim, loaded)  # may refuse the settings: nothing has changed yet
        if reload:
            self._adopt(loaded, fim, settings)
        else:
            self.runner.use_kernels(settings.kernels)
        previous, self.settings = self.settings, settings
        if reload or layout is not self.layout or (previous.pie, previous.max_file_bytes) != (
                settings.pie, settings.max_file_bytes):
            self.layout = layout
            for doc in self.documents.values():
                self._track(doc)


def _layout(settings: Settings, fim: FimTokens | None, loaded: models.LoadedModel) -> Layout:
    try:
        return choose_layout(settings.fim_layout, fim, loaded.model.config.model_type)
    except ValueError as error:
        raise ModelError(str(error)) from None


def _distinct(branches) -> list[Suggestion]:
    """Non-empty suggestions, greedy first, then by log-probability; one that is a prefix of another
    (or extends it) adds nothing to cycle through and is left out."""
    ordered = branches[:1] + sorted(branches[1:], key=lambda b: -b.logprob)
    suggestions: list[Suggestion] = []
    for branch in ordered:
        if branch.text and not any(s.text.startswith(branch.text) or branch.text.startswith(s.text)
                                   for s in suggestions):
            suggestions.append(Suggestion(branch.text, round(branch.logprob, 4)))
    return suggestions


def _ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)
