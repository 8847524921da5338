"""The engine: what the LSP worker drives. Owned by ONE thread; it coordinates, its parts do the work.

A request: the scheduler picks the cheapest right answer (resume a decoding cut at this spot, the rest of
suggestions being typed along, or a new decoding); a new one brings the document's cache to the prompt's
tokens (PromptBuilder → Session.sync: PIE edits), decodes k suggestions speculatively (Decoding, with the
Speculator's drafts) until they end or the latency budget is spent, and answers. What a request leaves
unfinished, and the cache work no request should wait for, IdleWork does in small pre-emptible pieces
whenever the owning thread has nothing else to do. The parts: OpenDocuments (text, token mirror, session,
what was shown), ContextSelector (the cross-file segment), Speculator (the drafters' sources and budget),
scheduler.py (what runs next), idle.py (background work), EngineStats (counters), NextEdits (the same
change proposed elsewhere after an edit: completion/next_edits/).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from kvcomplete.completion import scheduler
from kvcomplete.completion.cache.session import EditMode, Session
from kvcomplete.completion.cache.window import WindowPolicy
from kvcomplete.completion.config import Settings
from kvcomplete.completion.decoding.alternatives import worth_showing
from kvcomplete.completion.decoding.decoding import Decoding
from kvcomplete.completion.decoding.scratch import Cancelled
from kvcomplete.completion.decoding.stops import StopRule
from kvcomplete.completion.drafts.speculation import RequestDrafts
from kvcomplete.completion.drafts.speculator import DRAFTERS, Speculator
from kvcomplete.completion.idle import IdleWork
from kvcomplete.completion.model import loading
from kvcomplete.completion.model.runner import ModelRunner
from kvcomplete.completion.model.spec import FimTokens, LoadedModel, ModelError, Progress, file_separator, fim_tokens
from kvcomplete.completion.next_edits.proposals import NextEdits, Proposal
from kvcomplete.completion.open_documents import (
    Continuation,
    OpenDocument,
    OpenDocuments,
    ShownSuggestions,
    Suggestion,
    UnknownDocument,
)
from kvcomplete.completion.prompt.builder import Prompt, PromptBuilder, Target
from kvcomplete.completion.prompt.layout import Layout, choose_layout
from kvcomplete.completion.prompt.selector import ContextSelector
from kvcomplete.completion.scheduler import Work
from kvcomplete.completion.stats import EngineStats
from kvcomplete.completion.text.mirror import TextChange
from kvcomplete.completion.text.syntax import context_at, language_of
from kvcomplete.completion.text.vocab import Vocabulary

POSITION_MARGIN = 192  # positions kept free past the window for suggestions and their draft trees
CONTEXT_SHARE = 0.25  # of contextTokens, for the cross-file context segment when there is a workspace

__all__ = ["Engine", "Completion", "Suggestion", "TextChange", "Cancelled", "UnknownDocument", "ModelError"]


@dataclass(slots=True)
class Completion:
    suggestions: list[Suggestion]
    timings_ms: dict[str, float] = field(default_factory=dict)
    reason: str | None = None  # why there are none, when that is not the model's choice
    partial: bool = False  # cut at the latency budget: background work goes on with it


class Engine:
    def __init__(self, settings: Settings, progress: Progress | None = None,
                 loaded: LoadedModel | None = None, drafters: Iterable[str] = DRAFTERS) -> None:
        """Loads the model named by ``settings`` unless an already ``loaded`` one is shared in. ``drafters``:
        which of DRAFTERS speculation uses (benchmarks compare subsets; users want them all)."""
        self.settings = settings
        self.speculator = Speculator(drafters)
        loaded = loaded or loading.load(settings, progress)
        fim = fim_tokens(loaded.tokenizer)
        self.layout = _layout(settings, fim, loaded)
        self.context = None  # a ContextSelector once the model's vocabulary is known (_adopt)
        self._adopt(loaded, fim, settings)
        self.statistics = EngineStats()
        self.idle = IdleWork(self)
        # Told (uri, cursor offset) when background decoding extended the suggestions shown there.
        self.on_suggestions_changed: Callable[[str, int], None] = lambda uri, offset: None
        self.next_edits = NextEdits(self)
        # Told (uri, text, proposals) when next edits for the last edit of a document are ready.
        self.on_next_edits_ready: Callable[[str, str, list[Proposal]], None] = lambda uri, text, proposals: None

    def _adopt(self, loaded: LoadedModel, fim: FimTokens | None, settings: Settings) -> None:
        """Use ``loaded``: its runner and vocabulary, and what is looked up once per model rather than per
        request (FIM token ids, the facts of ``info`` that ``kvcomplete/stats`` reports)."""
        self.loaded, self.fim = loaded, fim
        self.runner = ModelRunner(loaded, settings.kernels)
        self.vocab = Vocabulary(loaded.tokenizer)
        self.info = loaded.info()
        self.documents = OpenDocuments(self.vocab, settings.max_file_bytes)
        workspace = self.context.workspace if self.context is not None else None
        self.context = ContextSelector(self.vocab, file_separator(loaded.tokenizer, loaded.config.model_type))
        if workspace is not None:
            self.context.use_workspace(*workspace)
        self._build_prompts()

    def _build_prompts(self) -> None:
        tokenizer = self.loaded.tokenizer
        start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        total = self.prompt_budget = self._prompt_tokens()
        self.context.budget = int(total * CONTEXT_SHARE) if self.context.enabled else 0
        self.window_policy = WindowPolicy(total - self.context.budget)
        self.prompts = PromptBuilder(self.vocab, start, self.layout, self.fim, self.window_policy)
        self.info = {**self.info, "contextTokens": total}

    def _prompt_tokens(self) -> int:
        """The cached prompt's size (context segment and window): the setting, within the model's trained
        positions and the KV budget."""
        trained = getattr(self.loaded.config, "max_position_embeddings", None) or self.settings.context_tokens
        per_token = self.runner.new_store(1).nbytes()
        fits = self.settings.kv_budget_mb * 2**20 // per_token
        return max(256, min(self.settings.context_tokens, trained - self.settings.max_tokens - POSITION_MARGIN, fits))

    def use_workspace(self, roots: Sequence[Path], files: Callable[[], Iterable[Path]] | None) -> None:
        """Choose context segments from the files ``files()`` lists under ``roots`` (None: no context segment).
        A quarter of contextTokens then goes to the segment, the rest to the window."""
        self.context.use_workspace(roots, files)
        for doc in self.documents:
            doc.context, doc.context_due = (), True
        self._build_prompts()

    @property
    def edit_mode(self) -> EditMode:
        return EditMode.PIE if self.settings.pie else EditMode.REENCODE

    # -- documents -------------------------------------------------------------------------------------
    def open(self, uri: str, text: str, language_id: str | None = None) -> None:
        self.documents.open(uri, text, language_of(uri, language_id))

    def change(self, uri: str, changes: Sequence[TextChange]) -> None:
        self.statistics.count("editsApplied", self.documents.change(uri, changes))

    def close(self, uri: str) -> None:
        if self.documents.close(uri) is not None:
            self.speculator.set_source(uri, None)

    def text(self, uri: str) -> str:
        return self.documents[uri].text

    def accept(self, uri: str, accepted_text: str) -> None:
        """A suggestion (or part of it) was accepted: once the editor's insertion arrives, decode what comes
        next in the background (prefetch), so the next ghost text is ready before it is asked for."""
        doc = self.documents[uri]
        self.statistics.count("accepts")
        if self.settings.prefetch and doc.shown is not None and doc.cursor is not None:
            doc.prefetch = (doc.text[: doc.cursor], accepted_text)

    # -- the cache -------------------------------------------------------------------------------------
    def prepare(self, uri: str, offset: int) -> tuple[Session, Prompt]:
        """The cache brought to what a request at ``offset`` reads, and its prompt, without decoding (for
        measurements of the cache update alone)."""
        doc = self.documents[uri]
        target = self.prepare_cache(doc, offset)
        return doc.session, target.prompt

    def prepare_cache(self, doc: OpenDocument, offset: int) -> Target:
        """The prompt of a request at ``offset``, with the document's cache brought to it."""
        target = self.prompts.target(doc, offset, self.context.segment(doc))
        self.update_cache(doc, target)
        return target

    def update_cache(self, doc: OpenDocument, target: Target, limit: int | None = None) -> Session:
        """Bring the document's session to ``target`` (all of it, or about ``limit`` tokens of the way)."""
        new = doc.session is None
        if new:
            doc.session = Session(self.runner, (), self.edit_mode)
        elif doc.window is None or target.window.start != doc.window.start:
            self.statistics.count("windowPlacements")
            doc.context_due = True  # a jump: what relates to the text around the cursor may have changed
        doc.continuation = None  # the scratch it decoded in is about to be overwritten
        edits = doc.session.sync(target.tokens, limit)
        self.statistics.count("fullEncodes" if new or not self.settings.pie else "pieUpdates", 1 if new else edits)
        doc.window = target.window_held(doc.session.tokens)
        doc.visible_slots = target.prompt.prefix_len + 1
        self.statistics.count("evictions", self.documents.evict_over(self.settings.kv_budget_mb * 2**20, doc.uri))
        return doc.session

    # -- completion ------------------------------------------------------------------------------------
    def complete(self, uri: str, offset: int, k: int | None = None, max_tokens: int | None = None,
                 cancelled: Callable[[], bool] = lambda: False, budget_ms: float = 0,
                 arrived: float | None = None) -> Completion:
        """Up to ``k`` suggestions at character ``offset``, as soon as they are finished; with ``budget_ms``
        (the server passes latencyBudgetMs) by then at the latest, counted from ``arrived`` (perf_counter
        seconds: when the request reached the server, queueing included; default now), cut where decoding
        got to once the first suggestion has some text. ``background_step`` then goes on with them."""
        started = time.perf_counter()
        deadline = (started if arrived is None else arrived) + budget_ms / 1000 if budget_ms else None
        doc, k = self.documents.requested(uri, offset), k or self.settings.suggestions
        if doc.skip_reason:
            return Completion([], reason=doc.skip_reason)
        before, after = doc.text[:offset], doc.text[offset:]
        work = scheduler.for_request(doc, before, after, k)
        if work is Work.TYPE_ALONG:
            self.statistics.time("firstAnswer", _ms_since(started))
            return Completion(doc.shown.continued(before, after)[:k],
                              {"type_along": _ms_since(started), "total": _ms_since(started)})
        if work is Work.RESUME:  # its budget was spent where it started: answer once #1 has text
            self.statistics.count("continued")
            return self._decode(doc, doc.continuation.decoding, started, {}, cancelled, started if budget_ms else None)
        decoding, timings = self._start_request(doc, offset, k, max_tokens, cancelled, started, deadline)
        if arrived is not None:
            timings["queued"] = round((started - arrived) * 1000, 2)
        return self._decode(doc, decoding, started, timings, cancelled, deadline)


    def _start_request(self, doc: OpenDocument, offset: int, k: int, max_tokens: int | None,
                       cancelled: Callable[[], bool], started: float,
                       deadline: float | None) -> tuple[Decoding, dict[str, float]]:
        """The cache brought to the request's prompt, and a decoding started from it."""
        target = self.prepare_cache(doc, offset)
        timings = {"cache_update": _ms_since(started)}
        self.statistics.time("cacheUpdate", timings["cache_update"])
        decoding = self.start_decoding(doc, target, offset, k, max_tokens, cancelled, deadline)
        doc.continuation = Continuation(decoding, doc.text[:offset], doc.text[offset:], k, started)
        return decoding, timings

    def _decode(self, doc: OpenDocument, decoding: Decoding, started: float, timings: dict[str, float],
                cancelled: Callable[[], bool], deadline: float | None) -> Completion:
        """Run ``decoding`` to its end or, once #1 has text, the ``deadline`` (perf_counter seconds; None:
        none), and answer with where it got to."""
        decode_started = time.perf_counter()
        decoding.run(cancelled, deadline=deadline)
        timings["decode"] = _ms_since(decode_started)
        timings["total"] = _ms_since(started)
        self.statistics.time("decode", timings["decode"])
        self.statistics.time("firstAnswer", timings["total"])
        suggestions = self.show(doc, decoding)
        if not decoding.done:
            self.statistics.count("partialAnswers")
        return Completion(suggestions, timings, partial=not decoding.done)

    def start_decoding(self, doc: OpenDocument, target: Target, offset: int, k: int, max_tokens: int | None,
                       cancelled: Callable[[], bool], deadline: float | None = None) -> Decoding:
        """A decoding from ``target``'s prompt (its construction runs the first forward and any superposed pass,
        which is skipped when it would end past ``deadline``)."""
        stop = StopRule.at(doc.text, offset, context_at(doc.text, offset, doc.language))
        drafting = self._drafting(doc, k, deadline) if self.settings.speculation else None
        return Decoding(self.runner, doc.session.store, target.prompt, self.vocab, stop, k,
                        max_tokens or self.settings.max_tokens, cancelled, drafting,
                        self.speculator.budget if drafting else None)

    def show(self, doc: OpenDocument, decoding: Decoding) -> list[Suggestion]:
        """The decoding's suggestions as they stand; remembered for type-along. A finished decoding also
        counts its work and becomes history for CopySpec."""
        continuation = doc.continuation
        suggestions = worth_showing([Suggestion(b.text, round(b.logprob, 4), len(b.tokens), round(b.split_logprob, 4))
                                     for b in decoding.branches], len(decoding.branches))
        if continuation is not None and continuation.decoding is decoding:
            doc.shown = ShownSuggestions(continuation.before, continuation.after, tuple(suggestions))
            if decoding.done:
                doc.continuation = None
                self.statistics.time("finalSuggestion", _ms_since(continuation.started))
        if decoding.done:
            self._record(decoding)
        return suggestions

    def _record(self, decoding: Decoding) -> None:
        stats, branches = decoding.stats, decoding.branches
        self.statistics.count("draftTokensProposed", stats.draft_tokens_proposed)
        self.statistics.count("draftTokensAccepted", stats.draft_tokens_accepted)
        self.statistics.count("forwards", stats.forwards)
        self.statistics.count("tokensGenerated", sum(len(branch.tokens) for branch in branches))
        self.speculator.learn(decoding)

    def _drafting(self, doc: OpenDocument, k: int, deadline: float | None) -> RequestDrafts | None:
        self.speculator.index_documents(self.documents)
        ms_left = None if deadline is None else (deadline - time.perf_counter()) * 1000
        drafting = self.speculator.drafting(doc.uri, k, self.vocab, self.runner.embed, ms_left)
        if drafting is not None and drafting.superposed is not None:
            self.statistics.count("superposedPasses")
        return drafting

    # -- background work -------------------------------------------------------------------------------
    def background_step(self) -> bool:
        """One small piece of idle-time work (completion/idle.py); False when there is none."""
        return self.idle.step()

    # -- state -----------------------------------------------------------------------------------------
    def stats(self) -> dict:
        cached = [doc for doc in self.documents if doc.session is not None]
        return {**self.statistics.report(), "tokensEncoded": self.runner.tokens_encoded,
                "kvBytes": self.documents.kv_bytes(), "kvBudgetBytes": self.settings.kv_budget_mb * 2**20,
                "contextTokens": self.prompt_budget, "windowTokens": self.window_policy.budget,
                "contextSegmentTokens": self.context.budget, "cachedDocuments": len(cached),
                "cachedTokens": sum(doc.session.length for doc in cached)}

    def reconfigure(self, settings: Settings) -> None:
        """Apply new settings; the model is reloaded only when one of config.RELOAD_FIELDS changed."""
        reload = settings.reloads_model(self.settings)
        loaded = loading.load(settings) if reload else self.loaded
        fim = fim_tokens(loaded.tokenizer) if reload else self.fim
        layout = _layout(settings, fim, loaded)  # may refuse the settings: nothing has changed yet
        if not reload:
            self.runner.use_kernels(settings.kernels)
        previous, self.settings = self.settings, settings
        documents = self.documents
        if reload:
            self._adopt(loaded, fim, settings)
            for doc in documents:
                self.open(doc.uri, doc.text, doc.language)
        elif layout is not self.layout or (previous.pie, previous.max_file_bytes, previous.context_tokens) != (
                settings.pie, settings.max_file_bytes, settings.context_tokens):
            documents.max_file_bytes = settings.max_file_bytes
            for doc in documents:
                documents.track(doc)
        self.layout = layout
        self._build_prompts()


def _layout(settings: Settings, fim: FimTokens | None, loaded: LoadedModel) -> Layout:
    try:
        return choose_layout(settings.fim_layout, fim, loaded.model.config.model_type)
    except ValueError as error:
        raise ModelError(str(error)) from None


def _ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)
