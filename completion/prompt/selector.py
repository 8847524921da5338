"""When and from what a document's cross-file context segment is chosen, and its tokens.

The segment (imported definitions, recently edited code, similar chunks; ``context.select_context``) sits in
front of the document's window in the cached prompt. It is chosen again only at calm moments (the document
was opened, switched to or jumped in: ``OpenDocument.context_due``), never per keystroke; the next cache
update then applies the difference as PIE edits. Each snippet is tokenized on its own, so the same snippet
is the same tokens wherever it lands and a changed selection is an edit per snippet. A model trained on a
multi-file format (Qwen2.5-Coder, StarCoder2) gets it in that format: its file-separator token before each
snippet's path line and before the current file's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Sequence
from urllib.parse import unquote, urlparse

from kvcomplete.completion.open_documents import OpenDocument
from kvcomplete.completion.prompt.context import Current, select_context
from kvcomplete.completion.text.vocab import Vocabulary

RECENT_DOCUMENTS = 3  # other open documents, most recently used first, offered to the selection
TOKENIZED_SNIPPETS = 4096  # snippets whose tokens are kept, before the memo starts over


class ContextSelector:
    def __init__(self, vocab: Vocabulary, file_separator: int | None = None) -> None:
        """``file_separator``: the model's file-separator token id (model/spec.py), when it was trained on a
        multi-file format; each snippet then follows one, and one more starts the current file."""
        self.vocab, self.file_separator = vocab, file_separator
        self.workspace: tuple[list[Path], Callable[[], Iterable[Path]]] | None = None
        self.budget = 0  # tokens for the segment (set with the prompt's size)
        self._tokens: dict[str, list[int]] = {}  # snippets tokenized, by rendered text

    @property
    def enabled(self) -> bool:
        return self.workspace is not None

    def use_workspace(self, roots: Sequence[Path], files: Callable[[], Iterable[Path]] | None) -> None:
        """Choose segments from the files ``files()`` lists under ``roots`` (None: no segment at all)."""
        self.workspace = (list(roots), files) if files is not None else None

    def segment(self, doc: OpenDocument) -> tuple[int, ...]:
        """The document's segment as last chosen."""
        return doc.context if self.enabled else ()

    def select(self, doc: OpenDocument, recent_first: Sequence[OpenDocument]) -> bool:
        """Choose ``doc``'s segment again if it is due; False when it was not. ``recent_first``: the open
        documents, most recently used first."""
        if not doc.context_due or self.workspace is None:
            return False
        doc.context_due = False
        roots, files = self.workspace
        others = [d for d in recent_first if d is not doc and path_of(d.uri) is not None]
        recent = [(path_of(d.uri), d.text) for d in others[:RECENT_DOCUMENTS]]
        current = Current(path_of(doc.uri), doc.text, doc.language, min(doc.cursor or 0, len(doc.text)))
        separated = self.file_separator is not None
        chosen = select_context(current, roots, list(files()), recent, self.budget,
                                lambda text: len(self.tokens_of(text)), separated)
        lead = [self.file_separator] if separated else []
        pieces = [*chosen.blocks, chosen.current] if chosen.current else chosen.blocks
        doc.context = tuple(token for piece in pieces for token in [*lead, *self.tokens_of(piece)])
        return True

    def tokens_of(self, block: str) -> list[int]:
        """A snippet's tokens, the same whatever surrounds it."""
        if block not in self._tokens:
            if len(self._tokens) > TOKENIZED_SNIPPETS:
                self._tokens.clear()
            self._tokens[block] = self.vocab.encode(block)
        return self._tokens[block]


def path_of(uri: str) -> Path | None:
    """The file a ``file:`` URI names (None for other schemes: unsaved buffers)."""
    parsed = urlparse(uri)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else None
