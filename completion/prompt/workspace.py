"""The workspace index: the project's files as git lists them, tokenized in the background for the drafters.

The drafters (CopySpec, the n-gram model) propose what the project itself would write, so they should know the
whole project, not just the open documents. The files are those git would list (files.py). Binary (NUL
bytes), non-UTF-8 and larger than ``maxFileBytes`` files are skipped, and ``indexMaxFiles`` / ``indexMaxBytes`` bound the whole (the drafters' memory grows with the tokens
they are given).

One background thread lists and tokenizes; ``sink(pieces)`` hands the files' tokens
on in pieces of at most ``CHUNK_TOKENS`` (key ``URI#n``; tokens ``None``: the piece is gone), small files'
pieces batched up to ``CHUNK_TOKENS`` per call, and returns once they are taken: a slow consumer slows the
index and not the reverse, and the consumer's work per call is bounded (the n-gram model counts ~4 µs per
token: a 300k-token file at once would hold the engine thread for a second; a call per small file would make
the index wait behind a completion hundreds of times). The keys differ from an open document's (its URI): an
open file is its own source besides its saved copy. The index keeps sizes and token counts, never texts.

A server's index runs at the lowest OS priority, so it takes what CPU completions leave; on a busy machine that
is little (this repository's 1.3 MB took 104 s at nice 19 beside a dozen busy processes on 2 cores, 4.5 s at
normal priority).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from kvcomplete.completion.prompt.files import IGNORE_FILE, is_listed, list_files, read_text

logger = logging.getLogger(__name__)
CHUNK_TOKENS = 8192  # ~30 ms of n-gram counting per piece
Tokenize = Callable[[str], Sequence[int]]
Pieces = list[tuple[str, "Sequence[int] | None"]]  # (key, tokens; None: removed)
Sink = Callable[[Pieces], None]
Progress = Callable[[int, int], None]  # (files done, files listed)


@dataclass(frozen=True, slots=True)
class Limits:
    max_files: int  # files indexed at most (the first ones in listing order)
    max_bytes: int  # their total size at most
    max_file_bytes: int  # larger files are skipped

    @classmethod
    def of(cls, settings) -> Limits:
        """The limits that ``settings`` (completion.config.Settings) set."""
        return cls(settings.index_max_files, settings.index_max_bytes, settings.max_file_bytes)


@dataclass(frozen=True, slots=True)
class IndexedFile:
    size: int  # bytes
    mtime_ns: int  # an unchanged (size, mtime) is not tokenized again
    tokens: int


# -- listing -----------------------------------------------------------------------------------------------


_RESCAN = object()  # a queued request to list the roots again


@dataclass(frozen=True, slots=True)
class _Reset:
    """A queued request to drop every file and index again with new limits or a new tokenizer."""

    limits: Limits
    tokenize: Tokenize


class WorkspaceIndex:
    """The indexed files of ``roots``, kept current by ``update`` calls (from any thread)."""

    def __init__(self, roots: Sequence[Path], limits: Limits, tokenize: Tokenize, sink: Sink,
                 progress: Progress | None = None, chunk_tokens: int = CHUNK_TOKENS, background: bool = True) -> None:
        """``background``: at the lowest OS priority (a server: completions first); False for a caller that
        waits for the index (on a busy machine a nice-19 thread gets next to no CPU)."""
        self.roots = [Path(root).resolve() for root in roots]
        self.background = background
        self.limits, self.chunk_tokens = limits, chunk_tokens
        self._tokenize, self._sink, self._progress = tokenize, sink, progress
        self._batch: Pieces = []  # pieces not handed on yet
        self._batch_tokens = 0
        self._files: dict[Path, IndexedFile] = {}
        self._bytes = 0  # the sizes of _files, summed
        self._lock = threading.Lock()  # _files is read by stats() on other threads
        self._events: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._pending = 0  # events queued and not yet handled
        self._handled = threading.Condition()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kvcomplete-index", daemon=True)

    # -- any thread ----------------------------------------------------------------------------------------
    def start(self) -> None:
        self._put(_RESCAN)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the file under way (its sink call included)."""
        self._stopped.set()
        self._events.put(None)

    def reset(self, limits: Limits, tokenize: Tokenize) -> None:
        """Index everything again under new limits, or with a new model's tokenizer: every piece handed on so
        far is removed first, so nothing of the old limits or tokens stays with the consumer."""
        self._put(_Reset(limits, tokenize))

    def update(self, path: Path) -> None:
        """``path`` was created, changed, saved or deleted (a folder: each file in it); a changed ignore file
        lists everything again."""
        self._put(_RESCAN if Path(path).name == IGNORE_FILE else Path(path).resolve())

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every event so far is handled (for tests and one-shot use); False on timeout."""
        with self._handled:
            return self._handled.wait_for(lambda: self._pending == 0 or self._stopped.is_set(), timeout)

    def _put(self, event: object) -> None:
        with self._handled:
            self._pending += 1
        self._events.put(event)

    def files(self) -> dict[Path, IndexedFile]:
        """The indexed files now (a copy)."""
        with self._lock:
            return dict(self._files)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"indexedFiles": len(self._files), "indexedTokens": sum(f.tokens for f in self._files.values()),
                    "indexedBytes": self._bytes}

    # -- the index thread ----------------------------------------------------------------------------------
    def _run(self) -> None:
        if self.background:
            _lowest_priority()
        while (event := self._events.get()) is not None and not self._stopped.is_set():
            try:
                self._handle(event)
                self._flush()
            except Exception:  # one bad file or folder must not end the index
                logger.exception("workspace index: %s failed", event)
            with self._handled:
                self._pending -= 1
                self._handled.notify_all()
        with self._handled:
            self._handled.notify_all()

    def _handle(self, event: object) -> None:
        if isinstance(event, _Reset):
            for path in self.files():
                self._drop(path)
            self.limits, self._tokenize = event.limits, event.tokenize
            self._rescan()
        elif event is _RESCAN:
            self._rescan()
        else:
            self._refresh(event)

    def _rescan(self) -> None:
        listed = self._listing()
        for path in set(self._files) - set(listed):
            self._drop(path)
        for done, path in enumerate(listed, 1):
            if self._stopped.is_set():
                return
            self._index(path)
            if self._progress is not None:
                self._progress(done, len(listed))

    def _listing(self) -> list[Path]:
        """Listed files within maxFiles, in listing order (the bytes bound is applied while indexing)."""
        listed: list[Path] = []
        for root in self.roots:
            for path in list_files(root):
                if len(listed) >= self.limits.max_files or self._stopped.is_set():
                    return listed
                listed.append(path)
        return listed

    def _refresh(self, path: Path) -> None:
        if path.is_dir():  # a folder created or moved in: its ignore files and files are all new
            self._rescan()
        elif any(is_listed(root, path) for root in self.roots):
            self._index(path)
        else:  # deleted, or ignored; a deleted folder takes its files with it
            for known in [p for p in self.files() if p == path or path in p.parents]:
                self._drop(known)

    def _index(self, path: Path) -> None:
        """(Re)index ``path`` unless it is unchanged; skip (and drop) it when it cannot be read as text or is
        over the limits."""
        try:
            stat = path.stat()
        except OSError:
            self._drop(path)
            return
        with self._lock:
            known = self._files.get(path)
            total = self._bytes - (known.size if known else 0)
            full = known is None and len(self._files) >= self.limits.max_files
        if known is not None and (known.size, known.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
            return
        text = None if full or total + stat.st_size > self.limits.max_bytes else read_text(
            path, self.limits.max_file_bytes)
        if text is None:
            self._drop(path)
            return
        tokens = self._tokenize(text)
        self._feed(path, tokens, known.tokens if known else 0)
        with self._lock:
            self._bytes += stat.st_size - (known.size if known else 0)
            self._files[path] = IndexedFile(stat.st_size, stat.st_mtime_ns, len(tokens))

    def _drop(self, path: Path) -> None:
        with self._lock:
            known = self._files.pop(path, None)
            self._bytes -= known.size if known else 0
        if known is not None:
            self._feed(path, (), known.tokens)

    def _feed(self, path: Path, tokens: Sequence[int], before: int) -> None:
        """Hand ``tokens`` on in pieces; pieces of the file's ``before`` tokens left over are removed."""
        step, uri = self.chunk_tokens, path.as_uri()
        for n in range(max(_pieces(len(tokens), step), _pieces(before, step))):
            piece = tokens[n * step: (n + 1) * step]
            cost = max(len(piece), min(step, before - n * step))  # the old piece's counts are taken out too
            if self._batch_tokens + cost > step:
                self._flush()
            self._batch.append((f"{uri}#{n}", piece if len(piece) else None))
            self._batch_tokens += cost

    def _flush(self) -> None:
        if self._batch:
            batch, self._batch, self._batch_tokens = self._batch, [], 0
            self._sink(batch)


def _pieces(count: int, step: int) -> int:
    return -(-count // step)


def _lowest_priority() -> None:
    """Give this thread the lowest CPU priority (Linux: threads have their own nice value)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):  # not on this platform: the index still runs, at normal priority
        pass


def index_tokenizer(tokenizer) -> Tokenize:
    """The model's tokenization (as ``Vocabulary.encode``) for the index thread, on its own tokenizer object.

    A Hugging Face fast tokenizer sets flags on its Rust tokenizer on every call, and Rust refuses a second
    thread's call meanwhile ("Already borrowed"): the index must not share the engine thread's object.
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:  # a pure-Python tokenizer: nothing shared to collide on
        return lambda text: tokenizer(text, add_special_tokens=False, split_special_tokens=True)["input_ids"]
    from tokenizers import Tokenizer

    own = Tokenizer.from_str(backend.to_str())
    own.encode_special_tokens = True
    return lambda text: own.encode(text, add_special_tokens=False).ids


def feed_drafters(engine, pieces: Pieces) -> None:
    """On the engine thread: pieces of workspace files become sources of CopySpec and the n-gram model
    (tokens ``None``: that piece is no longer one)."""
    for key, tokens in pieces:
        engine.speculator.set_source(key, tokens)


def index_now(engine, roots: Sequence[Path]) -> dict[str, int]:
    """Index ``roots`` into the engine's drafters and wait until done (one-shot use: nothing else may use the
    engine meanwhile); returns the index's stats."""
    index = WorkspaceIndex(roots, Limits.of(engine.settings), index_tokenizer(engine.vocab.tokenizer),
                           lambda pieces: feed_drafters(engine, pieces), background=False)
    index.start()
    index.wait_idle()
    index.stop()
    engine.use_workspace(index.roots, index.files)  # and choose context segments from its files
    return index.stats()
