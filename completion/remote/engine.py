"""The remote engine: what the LSP worker drives when ``backend`` is not ``local``. Owned by ONE thread.

The workstation keeps what is cheap and per user: the documents and their token mirrors (OpenDocuments),
the prompt (PromptBuilder: the cross-file context segment, then the window, cursor last, so that the server's
prefix cache holds across keystrokes), token healing, the stop rule, type-along and the statistics. The
server runs the forwards (in the slot whose cache shares most with the prompt; a router may pick the server by a
hash of user and file) and streams one greedy suggestion, closed once the stop rule ends it (or read on in idle
time when the latency budget cut it: InFlight). Lost against local (docs/teams.md): PIE, tree verification with
drafts, prefetch after an accept, the alternatives (suggestion #1 only). Backend down: LocalFallback answers.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from kvcomplete.completion import scheduler
from kvcomplete.completion.cache.window import WindowPolicy
from kvcomplete.completion.config import Settings
from kvcomplete.completion.decoding.scratch import Cancelled
from kvcomplete.completion.decoding.stops import StopRule
from kvcomplete.completion.engine import CONTEXT_SHARE, POSITION_MARGIN, Completion
from kvcomplete.completion.model import loading
from kvcomplete.completion.model.spec import ModelError, Progress, file_separator, fim_tokens
from kvcomplete.completion.open_documents import (
    OpenDocument,
    OpenDocuments,
    ShownSuggestions,
    Suggestion,
    UnknownDocument,
)
from kvcomplete.completion.prompt.builder import PromptBuilder
from kvcomplete.completion.prompt.layout import choose_layout
from kvcomplete.completion.prompt.selector import ContextSelector
from kvcomplete.completion.remote.api import USER, NoDrafters, RemoteRequest, remote_request
from kvcomplete.completion.remote.backend import Backend
from kvcomplete.completion.remote.client import Deadline, EngineUnavailable
from kvcomplete.completion.remote.fallback import LocalFallback
from kvcomplete.completion.remote.generation import SuggestionReader
from kvcomplete.completion.remote.in_flight import InFlight
from kvcomplete.completion.scheduler import Work
from kvcomplete.completion.stats import EngineStats
from kvcomplete.completion.text.mirror import TextChange
from kvcomplete.completion.text.syntax import context_at, language_of
from kvcomplete.completion.text.vocab import Vocabulary

REMOTE_COUNTERS = ("remoteRequests", "remoteErrors", "remotePromptTokens", "remotePrefilled", "remoteCached",
                   "fallbackAnswers")


class RemoteEngine:
    def __init__(self, settings: Settings, progress: Progress | None = None,
                 tokenizer: tuple[object, object, str] | None = None) -> None:
        """Loads the tokenizer of ``settings.model`` (or takes ``tokenizer``: (tokenizer, config, name) as
        loading.load_tokenizer gives them) and checks the backend once; a backend that is down is not an
        error here: requests answer empty until it is up."""
        report = progress or (lambda message, fraction: None)
        report("reading the tokenizer", 0.1)
        self.settings = settings
        self.backend = Backend(settings)
        self._adopt(tokenizer or loading.load_tokenizer(settings))
        self.speculator = NoDrafters()
        self.statistics, self.remote = EngineStats(), Counter({name: 0 for name in REMOTE_COUNTERS})
        report(f"checking {settings.backend} at {settings.backend_url}", 0.8)
        self.in_flight: InFlight | None = None  # a suggestion cut at the latency budget, still streaming
        self.slot_released_at = 0.0  # perf_counter() by which the server has freed the last closed stream's slot
        self.on_suggestions_changed: Callable[[str, int], None] = lambda uri, offset: None
        self.fallback = LocalFallback(settings, lambda uri, offset: self.on_suggestions_changed(uri, offset))
        self._check()

    @property
    def on_backend_changed(self) -> Callable[[str, bool], None]:
        """Told (a message for the user, whether it is up) when the backend goes down or comes back."""
        return self.backend.link.on_change

    @on_backend_changed.setter
    def on_backend_changed(self, callback: Callable[[str, bool], None]) -> None:
        self.backend.link.tell(callback)  # told at once if it is down already (checked before the editor listens)

    def _adopt(self, source: tuple[object, object, str]) -> None:
        self.source = source
        tokenizer, config, self.name = source
        self.vocab, self.fim, family = Vocabulary(tokenizer), fim_tokens(tokenizer), config.model_type
        try:
            self.layout = choose_layout(self.settings.fim_layout, self.fim, family)
        except ValueError as error:
            raise ModelError(str(error)) from None
        self.start_token = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        self.documents = OpenDocuments(self.vocab, self.settings.max_file_bytes)
        self.context = ContextSelector(self.vocab, file_separator(tokenizer, family))
        self.family = family
        self._build_prompts()

    @property
    def info(self) -> dict:
        """The facts ``kvcomplete/stats`` reports as ``model``."""
        return {"model": self.name, "family": self.family, "fim": self.fim is not None,
                "backend": self.settings.backend, "backendUrl": self.backend.http.base_url,
                "contextTokens": self.prompt_budget}

    def _build_prompts(self) -> None:
        """The prompt's size: contextTokens, within what the server gives a request (its slot's context)."""
        facts = self.backend.facts
        served = facts.context_tokens if facts and facts.context_tokens else math.inf
        total = self.prompt_budget = int(max(256, min(self.settings.context_tokens,
                                                      served - self.settings.max_tokens - POSITION_MARGIN)))
        self.context.budget = int(total * CONTEXT_SHARE) if self.context.enabled else 0
        self.window_policy = WindowPolicy(total - self.context.budget)
        self.prompts = PromptBuilder(self.vocab, self.start_token, self.layout, self.fim, self.window_policy)

    def _check(self) -> bool:
        """Whether the backend is up and serves this tokenizer's model; the prompt then fits what it gives."""
        previous = self.backend.facts
        ok = self.backend.check(len(self.vocab), self.name)
        if self.backend.facts != previous:
            self._build_prompts()
        return ok

    # -- documents -------------------------------------------------------------------------------------
    def open(self, uri: str, text: str, language_id: str | None = None) -> None:
        self.documents.open(uri, text, language_of(uri, language_id))
        self.fallback.open(uri, text, self.documents[uri].language)

    def change(self, uri: str, changes: Sequence[TextChange]) -> None:
        self.statistics.count("editsApplied", self.documents.change(uri, changes))
        self.fallback.change(uri, changes)

    def close(self, uri: str) -> None:
        self.documents.close(uri)
        self.fallback.close(uri)

    def text(self, uri: str) -> str:
        return self.documents[uri].text

    def accept(self, uri: str, accepted_text: str) -> None:
        if uri not in self.documents:
            raise UnknownDocument(uri)
        self.statistics.count("accepts")
        self.fallback.accept(uri, accepted_text)

    def use_workspace(self, roots: Sequence[Path], files: Callable[[], Iterable[Path]] | None) -> None:
        """Choose context segments from the workspace's files, as the local engine does."""
        self.context.use_workspace(roots, files)
        self.fallback.use_workspace(roots, files)
        for doc in self.documents:
            doc.context, doc.context_due = (), True
        self._build_prompts()

    # -- completion ------------------------------------------------------------------------------------
    def complete(self, uri: str, offset: int, k: int | None = None, max_tokens: int | None = None,
                 cancelled: Callable[[], bool] = lambda: False, budget_ms: float = 0,
                 arrived: float | None = None) -> Completion:
        """Suggestion #1 at ``offset`` from the backend (``k`` bounds type-along answers only), by ``budget_ms``
        after ``arrived`` once it has text; empty with the reason when the backend has none by backendTimeoutMs
        or is down (then LocalFallback's answer once it is loaded, with backendFallback)."""
        started = time.perf_counter()
        arrived = started if arrived is None else arrived
        doc, k = self.documents.requested(uri, offset), k or self.settings.suggestions
        if doc.skip_reason:
            return Completion([], reason=doc.skip_reason)
        before, after = doc.text[:offset], doc.text[offset:]
        if scheduler.for_request(doc, before, after, k) is Work.TYPE_ALONG:
            self.statistics.time("firstAnswer", _ms_since(started))
            return Completion(doc.shown.continued(before, after)[:k], {"type_along": _ms_since(started)})
        self._end_in_flight()
        if not self.backend.usable(len(self.vocab), self.name):
            local = self.fallback.ready(self.documents, self.context.workspace)
            if local is not None:
                self.remote["fallbackAnswers"] += 1
                return local.complete(uri, offset, k, max_tokens, cancelled, budget_ms, arrived)
            return Completion([], {"total": _ms_since(started)}, reason=self.backend.link.reason())
        self.context.select(doc, list(reversed(list(self.documents))))
        target = self.prompts.target(doc, offset, self.context.segment(doc))
        doc.window = target.window
        reader = SuggestionReader(self.backend.api, target.prompt.healed.decode("utf-8", errors="ignore"),
                                  StopRule.at(doc.text, offset, context_at(doc.text, offset, doc.language)))
        request = remote_request(target.tokens, target.prompt, f"{USER} {doc.uri}",
                                 max_tokens or self.settings.max_tokens, self.settings.backend_timeout_ms)
        reason = self._generate(InFlight(uri, offset, before, after, arrived, reader), request, cancelled, budget_ms)
        timings = {"total": _ms_since(started)}
        self.statistics.time("firstAnswer", timings["total"])
        suggestions = self._show(doc, reader, before, after)
        if not reader.done:
            self.statistics.count("partialAnswers")
        return Completion(suggestions, timings, reason=reason, partial=not reader.done)

    def _show(self, doc: OpenDocument, reader: SuggestionReader, before: str, after: str) -> list[Suggestion]:
        """The reader's suggestion as it stands; remembered for type-along."""
        suggestions = [Suggestion(reader.text, 0.0, reader.pieces)] if reader.text else []
        doc.shown = ShownSuggestions(before, after, tuple(suggestions))
        return suggestions

    def _generate(self, flight: InFlight, request: RemoteRequest, cancelled: Callable[[], bool],
                  budget_ms: float) -> str | None:
        """Stream ``request`` into ``reader`` until the suggestion ends, the latency budget cuts it once it has
        text (the stream then goes on in the background: InFlight) or backendTimeoutMs passes without text;
        returns why there is no suggestion, if known."""
        reader, arrived = flight.reader, flight.started
        first_text_by = arrived + self.settings.backend_timeout_ms / 1000
        cut_at = arrived + budget_ms / 1000 if budget_ms else math.inf
        self.remote.update(remoteRequests=1, remotePromptTokens=len(request.tokens))
        time.sleep(max(0.0, self.slot_released_at - time.perf_counter()))  # else its cache is missed (InFlight)
        flight.stream = self.backend.stream(request)
        try:
            flight.read(lambda: cut_at if reader.text else first_text_by, cancelled)
        except Deadline:
            if reader.text:
                self.in_flight = flight
                return None
            return f"{self.backend.kind} at {self.backend.http.base_url} had no text within backendTimeoutMs"
        except EngineUnavailable as error:
            self.remote["remoteErrors"] += 1
            self.backend.link.failed(str(error))
            return self.backend.link.reason()
        finally:
            self._count_prefill(flight)
            if self.in_flight is not flight:
                self._finish(flight)
        if cancelled():
            raise Cancelled()
        return "the backend's text left the text before the cursor (token healing)" if reader.diverged else None

    def _count_prefill(self, flight: InFlight) -> None:
        usage = flight.take_usage()
        if usage is not None:
            self.remote.update(remotePrefilled=usage.prefilled, remoteCached=usage.cached)

    def _finish(self, flight: InFlight) -> None:
        """Close the stream and count what it did."""
        flight.stream.close()
        self.slot_released_at = flight.released_at()
        self._count_prefill(flight)
        self.statistics.count("tokensGenerated", flight.reader.pieces)

    def _end_in_flight(self) -> None:
        if self.in_flight is not None:
            self._finish(self.in_flight)
            self.in_flight = None

    # -- background work -------------------------------------------------------------------------------
    def background_step(self) -> bool:
        """Read on a suggestion cut at the latency budget, or check a backend that is down once its retry
        delay has passed (so that ghost text comes back without a keystroke); False when there is neither."""
        if self.in_flight is not None:
            self._carry_on(self.in_flight)
            return True
        if self.backend.link.state != "ok" and self.fallback.background_step():
            return True
        if self.backend.link.state == "ok" or not self.backend.link.due() or not self.documents:
            return False
        if self._check():
            for doc in self.documents:
                if doc.cursor is not None:
                    self.on_suggestions_changed(doc.uri, doc.cursor)
        return True

    def _carry_on(self, flight: InFlight) -> None:
        """Read what arrived; once the suggestion is complete, show it and tell the editor."""
        try:
            if not flight.read_a_little():
                return
        except EngineUnavailable as error:
            self.backend.link.failed(str(error))
        self._end_in_flight()
        shown = self.documents[flight.uri].shown if flight.uri in self.documents else None
        if shown is not None and (shown.before, shown.after) == (flight.before, flight.after):
            self._show(self.documents[flight.uri], flight.reader, flight.before, flight.after)
            self.statistics.time("finalSuggestion", _ms_since(flight.started))
            self.on_suggestions_changed(flight.uri, flight.offset)

    # -- state -----------------------------------------------------------------------------------------
    def stats(self) -> dict:
        return {**self.statistics.report(), **self.remote, "contextTokens": self.prompt_budget,
                "windowTokens": self.window_policy.budget, "contextSegmentTokens": self.context.budget,
                "backend": {**self.backend.link.report(), "fallback": self.fallback.status()}}

    def reconfigure(self, settings: Settings) -> None:
        """Apply new settings: another ``model`` reads its tokenizer (documents reopened), another backend
        setting reconnects; the rest apply to the next request."""
        previous, documents = self.settings, list(self.documents)
        tokenizer = loading.load_tokenizer(settings) if settings.model != previous.model else None
        self._end_in_flight()
        self.settings, self.fallback = settings, self.fallback.reconfigured(settings)
        reconnect = (settings.backend, settings.backend_url, settings.backend_model, settings.backend_fallback) != (
            previous.backend, previous.backend_url, previous.backend_model, previous.backend_fallback)
        if reconnect:
            self.backend = Backend(settings, self.on_backend_changed)
        if tokenizer is not None or (settings.fim_layout, settings.max_file_bytes) != (
                previous.fim_layout, previous.max_file_bytes):
            self._adopt(tokenizer or self.source)
            for doc in documents:
                self.open(doc.uri, doc.text, doc.language)
        if reconnect:
            self._check()
        self._build_prompts()


def _ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)
