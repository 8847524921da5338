"""The open documents: their text, token mirror, context window and KV session, least recently used first.

The engine holds one ``OpenDocuments``. A document's text is the editor's (every change applied here); its
mirror (tokens) exists only when it can be completed; its session (the cached prompt) may be evicted to keep
all caches within the KV budget and is rebuilt on demand.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Sequence

from kvcomplete.completion.cache.window import Window
from kvcomplete.completion.next_edits.edits import LastEdit, record_change
from kvcomplete.completion.text.mirror import TextChange, TokenMirror
from kvcomplete.completion.text.vocab import Vocabulary

if TYPE_CHECKING:
    from kvcomplete.completion.cache.session import Session
    from kvcomplete.completion.decoding.decoding import Decoding


class UnknownDocument(KeyError):
    """A request named a document that is not open."""

    def __str__(self) -> str:
        return f"document not open: {self.args[0]}"


@dataclass(frozen=True, slots=True)
class Suggestion:
    text: str  # inserted at the cursor
    logprob: float
    tokens: int = 0  # how many it took
    split_logprob: float = 0.0  # of the token where it left suggestion #1 (completion/decoding/alternatives.py)


@dataclass(frozen=True, slots=True)
class ShownSuggestions:
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


@dataclass(slots=True)
class Continuation:
    """A decoding that outlived its request: background work carries it on while the cache is untouched."""

    decoding: Decoding
    before: str  # the text before and after the cursor it decodes for
    after: str
    k: int
    started: float  # perf_counter() when the request (or prefetch) began


@dataclass(slots=True)
class OpenDocument:
    """An open document; ``mirror`` is None for binary or too large ones (text tracked, never completed)."""

    uri: str
    text: str
    language: str | None
    mirror: TokenMirror | None = None
    session: Session | None = None
    window: Window | None = None  # the document tokens the session holds (its document segment)
    cursor: int | None = None  # the last request's cursor (character offset): where background work helps
    visible_slots: int = 0  # cache slots the last request's prompt attended to (stale ones get refreshed first)
    skip_reason: str | None = None
    indexed_version: int = -1  # mirror version last given to the drafters' indexes
    shown: ShownSuggestions | None = None  # the last suggestions, for type-along
    continuation: Continuation | None = None
    prefetch: tuple[str, str] | None = None  # after an accept: (text before the cursor, accepted text)
    context: tuple[int, ...] = ()  # the cross-file context segment's tokens, in front of the window
    context_due: bool = True  # the context segment should be chosen again (opened, switched to, jumped in, saved)
    last_edit: LastEdit | None = None  # the user's last edit, for next edits

    def drop_cache(self) -> None:
        """Forget the KV session and whatever lived in its scratch."""
        self.session, self.window, self.continuation = None, None, None

    def starts_line(self, token_index: int) -> bool:
        """Whether token ``token_index`` starts a line (or begins with the newline that ends one)."""
        tokens, bytes_of = self.mirror.tokens, self.mirror.vocab.bytes_of
        if token_index == 0 or token_index >= len(tokens):
            return True
        return bytes_of[tokens[token_index]].startswith(b"\n") or bytes_of[tokens[token_index - 1]].endswith(b"\n")


def _cursor_after(cursor: int | None, change: TextChange) -> int | None:
    """Where the cursor is after ``change``: text inserted at or before it pushes it on (typing)."""
    if cursor is None or change.start > cursor:
        return cursor
    if change.end <= cursor:
        return cursor + len(change.text) - (change.end - change.start)
    return change.start + len(change.text)


def completable(text: str, max_file_bytes: int) -> str | None:
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
    if size > max_file_bytes:
        return f"larger than maxFileBytes ({max_file_bytes})"
    return None


class OpenDocuments:
    """Open documents by URI, least recently used first; applies the editor's changes."""

    def __init__(self, vocab: Vocabulary, max_file_bytes: int) -> None:
        self.vocab, self.max_file_bytes = vocab, max_file_bytes
        self._open: OrderedDict[str, OpenDocument] = OrderedDict()
        self._last_requested: str | None = None

    def __iter__(self) -> Iterator[OpenDocument]:
        return iter(list(self._open.values()))

    def __getitem__(self, uri: str) -> OpenDocument:
        if uri not in self._open:
            raise UnknownDocument(uri)
        return self._open[uri]

    def __contains__(self, uri: str) -> bool:
        return uri in self._open

    def items(self):
        return self._open.items()

    def open(self, uri: str, text: str, language: str | None) -> OpenDocument:
        doc = self._open[uri] = OpenDocument(uri=uri, text=text, language=language)
        self.track(doc)
        return doc

    def close(self, uri: str) -> OpenDocument | None:
        return self._open.pop(uri, None)

    def touch(self, uri: str) -> OpenDocument:
        """The document, now the most recently used."""
        doc = self[uri]
        self._open.move_to_end(uri)
        return doc

    def requested(self, uri: str, offset: int) -> OpenDocument:
        """The document a request at ``offset`` is for, now the most recently used, with its cursor there; a
        switch from another file makes its context segment due again."""
        doc = self.touch(uri)
        if not 0 <= offset <= len(doc.text):
            raise ValueError(f"offset {offset} is outside {uri} (length {len(doc.text)})")
        doc.cursor = offset
        if self._last_requested != uri:
            self._last_requested, doc.context_due = uri, True
        return doc

    def track(self, doc: OpenDocument) -> None:
        """(Re)build the token mirror, or drop it when the text is not completable."""
        doc.skip_reason = completable(doc.text, self.max_file_bytes)
        doc.mirror = None if doc.skip_reason else TokenMirror(self.vocab, doc.text)
        doc.drop_cache()

    def change(self, uri: str, changes: Sequence[TextChange]) -> int:
        """Apply the editor's ``changes`` (in order); the window follows the text, and the document becomes the
        most recently used (background work, next edits included, goes to it). Returns how many."""
        doc = self.touch(uri)
        for change in changes:
            if not 0 <= change.start <= change.end <= len(doc.text):
                raise ValueError(f"change [{change.start}, {change.end}) is outside {uri} (length {len(doc.text)})")
            doc.last_edit = record_change(doc.last_edit, doc.text, change)
            doc.text = doc.text[: change.start] + change.text + doc.text[change.end:]
            doc.cursor = _cursor_after(doc.cursor, change)
            if doc.mirror is not None and completable(change.text, self.max_file_bytes) is None:
                edit = doc.mirror.apply(change)
                if edit is not None and doc.window is not None:
                    doc.window = doc.window.shifted(edit)
            else:
                doc.mirror = None
        if doc.mirror is None or completable(doc.text, self.max_file_bytes) is not None:
            self.track(doc)
        return len(changes)

    def kv_bytes(self) -> int:
        return sum(doc.session.nbytes() for doc in self._open.values() if doc.session is not None)

    def evict_over(self, budget_bytes: int, keep: str) -> int:
        """Drop the least recently used caches (never ``keep``'s) while all caches exceed ``budget_bytes``;
        returns how many were dropped."""
        evicted = 0
        for doc in list(self._open.values()):
            if self.kv_bytes() <= budget_bytes:
                break
            if doc.uri != keep and doc.session is not None:
                doc.drop_cache()
                evicted += 1
        return evicted
