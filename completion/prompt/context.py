"""Context selection: the snippets of other workspace files that go in front of the document in the prompt.

Most of what a completion needs (the signature of the function being called, the names, the pattern used
elsewhere) is in another file. Within a token budget, in this priority:

1. definitions of the names the document imports, resolved in the workspace (``outline.py``: signatures,
   docstrings, class outlines; a module imported whole: its top-level headers), those used near the cursor
   first;
2. from each recently edited or visited file, its chunk most like the text around the cursor;
3. the chunks of nearby files (by folder distance) most like the text around the cursor (identifier-set
   similarity, Jaccard).

The selection is a function of its inputs and the files' contents only (ties broken by path and line), so the
same state gives the same segment and the cache in front of the document stays put. Each snippet is introduced
by a comment with its path, in the document's language (or, for a model trained on a multi-file format, by its
file-separator token and the path); the most important snippet comes last, nearest the document.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

from kvcomplete.completion.prompt import outline
from kvcomplete.completion.prompt.files import read_text
from kvcomplete.completion.text.syntax import EXTENSIONS

CHUNK_LINES = 24  # a chunk of a file, for recent files and similarity
NEAR_LINES = 16  # lines around the cursor (before it; a quarter as many after) that similarity compares with
RECENT_FILES = 3  # recently edited / visited files given a chunk each
SCANNED_FILES = 200  # nearest files searched for similar chunks
SIMILAR_CHUNKS = 16  # the most similar chunks offered to the budget (each is tokenized to be counted)
SNIPPET_MAX_FILE_BYTES = 1_000_000  # larger files are not read for snippets
LINE_COMMENT = {"python": "#", "ruby": "#", "shellscript": "#", "lua": "--", "sql": "--", "haskell": "--"}
DEFAULT_COMMENT = "//"  # C, C++, Java, JavaScript, TypeScript, Rust, Go, ...
CHUNK_KINDS = ("recent", "similar")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")  # 3+ characters: ``i``, ``x``, ``df`` say little
_COMMON = frozenset(keyword.kwlist) | {"self", "cls"}  # in every chunk of Python: they relate nothing


@dataclass(frozen=True, slots=True)
class Current:
    """The document being completed."""

    path: Path | None  # None for an unsaved document
    text: str
    language: str | None
    offset: int  # the cursor, in characters


@dataclass(frozen=True, slots=True)
class Snippet:
    path: Path
    kind: str  # "definition", "outline", "recent" or "similar"
    text: str
    line: int = 0  # first line (0-based) of a chunk; 0 for definitions and outlines


@dataclass(frozen=True, slots=True)
class ContextSegment:
    snippets: tuple[Snippet, ...]  # in the order of the text
    blocks: tuple[str, ...]  # each snippet as rendered: path comment, text, blank line (or path line, text)
    current: str = ""  # with file separators: the current file's path line, after the blocks

    @property
    def text(self) -> str:
        """What goes in front of the document. Tokenizing it block by block keeps a snippet's tokens the same
        whatever surrounds it, so a change of selection is a token edit per added or removed block."""
        return "".join(self.blocks)


def select_context(current: Current, roots: Sequence[Path], files: Sequence[Path],
                   recent: Sequence[tuple[Path, str]], budget: int, count_tokens: Callable[[str], int],
                   separated: bool = False) -> ContextSegment:
    """The context segment for ``current``: snippets of ``files`` (the workspace index's files, under
    ``roots``, read from disk) and of ``recent`` ((path, text) of the recently edited or visited documents,
    most recent first: their text as the editor has it), whose rendered text costs at most ``budget`` tokens
    as ``count_tokens`` counts them. An empty segment when nothing fits or nothing relates.

    ``separated``: for a model trained on a multi-file format (a file-separator token, then the file's path
    on its own line, then its text), each block is rendered as a path line and the text, a separator token
    (counted as one) goes in front of it, and the current file's path line follows the blocks."""
    listed = set(files)
    near = _near_text(current.text, current.offset)
    candidates = [*_definitions(current, roots, listed, near), *_recent(current, recent, near),
                  *_similar(current, files, near)]
    header = f"{_shown_path(current.path, roots) if current.path else 'untitled'}\n" if separated else ""
    chosen, used, seen = [], count_tokens(header) + 1 if separated else 0, set()
    for snippet in candidates:
        if _identity(snippet) in seen:
            continue
        cost = count_tokens(_render(snippet, current.language, roots, separated)) + (1 if separated else 0)
        if used + cost <= budget:
            chosen.append(snippet)
            seen.add(_identity(snippet))
            used += cost
    chosen.reverse()  # the first chosen is the most important: nearest the document
    blocks = tuple(_render(s, current.language, roots, separated) for s in chosen)
    return ContextSegment(tuple(chosen), blocks, header if blocks else "")


# -- candidates --------------------------------------------------------------------------------------------
def _definitions(current: Current, roots: Sequence[Path], listed: set[Path], near: frozenset[str]):
    """Definitions of the imported names, and of the attributes used of imported modules (``events.X``; a
    module none of whose attributes resolves gives its outline instead). Names used near the cursor first,
    then those used elsewhere in the document, then the rest; then in import order."""
    if current.language != "python" or current.path is None:
        return []
    found = []
    for order, item in enumerate(outline.imports(current.text)):
        module = _resolve(item.module, item.level, current.path, roots, listed)
        for name, bound in zip(item.names or (None,), item.bound):
            submodule = _resolve(_join(item.module, name), item.level, current.path, roots, listed) if name else None
            target = submodule or module
            parsed = _module_of(target) if target else None
            if parsed is None:
                continue
            if name and not submodule:
                shown = parsed.definitions.get(name)
                if shown:
                    used = len(re.findall(rf"\b{re.escape(bound)}\b", current.text)) > 1  # besides its import
                    found.append((_use(name, near, used), order, 0, Snippet(target, "definition", shown)))
                continue
            resolved = [(attribute, shown) for attribute in _attributes(current.text, bound)
                        if (shown := parsed.definitions.get(attribute))]
            for rank, (attribute, shown) in enumerate(resolved):
                found.append((_use(attribute, near, True), order, rank, Snippet(target, "definition", shown)))
            if not resolved and (shown := parsed.outline):
                found.append((2, order, 0, Snippet(target, "outline", shown)))
    return [snippet for *_, snippet in sorted(found, key=lambda item: item[:3])]


@dataclass(frozen=True, slots=True)
class _Module:
    definitions: dict[str, str]  # outline.definitions
    outline: str  # outline.module_outline


def _module_of(path: Path) -> _Module | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return _module(path, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=256)
def _module(path: Path, size: int, mtime_ns: int) -> _Module | None:
    """A module's definitions and outline (cached while its size and modification time stay the same)."""
    text = read_text(path, SNIPPET_MAX_FILE_BYTES)
    return None if text is None else _Module(outline.definitions(text), outline.module_outline(text))


def _use(name: str, near: frozenset[str], used: bool) -> int:
    """0: used near the cursor; 1: elsewhere in the document; 2: not used."""
    return 0 if name in near else 1 if used else 2


def _attributes(text: str, module: str) -> list[str]:
    """The attributes the document uses of ``module`` (as ``module.name``), in order of first use."""
    return list(dict.fromkeys(re.findall(rf"\b{re.escape(module)}\.([A-Za-z_][A-Za-z0-9_]*)", text)))


def _join(module: str, name: str) -> str:
    return f"{module}.{name}" if module else name


def _resolve(module: str, level: int, current: Path, roots: Sequence[Path], listed: set[Path]) -> Path | None:
    """The listed file of ``module``: relative to the document's package for a relative import; else under
    a workspace root, its ``src`` folder, or a folder above the document."""
    if level:
        bases = [current.parents[level - 1]] if level <= len(current.parents) else []
    else:
        bases = [*roots, *(root / "src" for root in roots), *current.parents]
    parts = module.split(".") if module else []
    for base in bases:
        for path in (base.joinpath(*parts).with_suffix(".py") if parts else None,
                     base.joinpath(*parts, "__init__.py")):
            if path in listed:
                return path
    return None


def _recent(current: Current, recent: Sequence[tuple[Path, str]], near: frozenset[str]):
    """Each recent document's chunk most like the cursor's surroundings (the first one when none is)."""
    found = []
    for path, text in [(path, text) for path, text in recent if path != current.path][:RECENT_FILES]:
        best = max(_split(text), key=lambda chunk: (_similarity(chunk, near), -chunk.line), default=None)
        if best is not None:
            found.append(Snippet(path, "recent", best.text, best.line))
    return found


def _similar(current: Current, files: Sequence[Path], near: frozenset[str]):
    if not near:
        return []
    nearest = sorted((path for path in files if path != current.path
                      and (current.language is None or EXTENSIONS.get(path.suffix.lower()) == current.language)),
                     key=lambda path: (_distance(path, current.path), str(path)))[:SCANNED_FILES]
    scored = [(-_similarity(chunk, near), str(path), chunk.line, path, chunk)
              for path in nearest for chunk in _chunks_of(path)]
    return [Snippet(path, "similar", chunk.text, chunk.line) for score, _, _, path, chunk in
            sorted(scored)[:SIMILAR_CHUNKS] if score < 0]


def _distance(path: Path, current: Path | None) -> int:
    """Folders between ``path`` and the document (0: the same folder)."""
    if current is None:
        return len(path.parts)
    common = 0
    for a, b in zip(path.parent.parts, current.parent.parts):
        if a != b:
            break
        common += 1
    return len(path.parent.parts) + len(current.parent.parts) - 2 * common


# -- chunks and similarity ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Chunk:
    line: int
    text: str
    identifiers: frozenset[str]


def _identifiers(text: str) -> frozenset[str]:
    return frozenset(_IDENTIFIER.findall(text)) - _COMMON


def _near_text(text: str, offset: int) -> frozenset[str]:
    before, after = text[:offset].split("\n"), text[offset:].split("\n")
    return _identifiers("\n".join(before[-NEAR_LINES:] + after[: NEAR_LINES // 4]))


def _similarity(chunk: _Chunk, near: frozenset[str]) -> float:
    """Jaccard: shared identifiers over all identifiers of the two."""
    shared = len(chunk.identifiers & near)
    return shared / (len(chunk.identifiers) + len(near) - shared) if shared else 0.0


def _chunks_of(path: Path) -> tuple[_Chunk, ...]:
    try:
        stat = path.stat()
    except OSError:
        return ()
    return _chunks(path, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=4096)
def _chunks(path: Path, size: int, mtime_ns: int) -> tuple[_Chunk, ...]:
    """The file's chunks of CHUNK_LINES lines (cached while its size and modification time stay the same)."""
    return _split(read_text(path, SNIPPET_MAX_FILE_BYTES) or "")


def _split(text: str) -> tuple[_Chunk, ...]:
    lines = text.split("\n")
    return tuple(_Chunk(start, chunk, _identifiers(chunk))
                 for start in range(0, len(lines), CHUNK_LINES)
                 if (chunk := "\n".join(lines[start: start + CHUNK_LINES]).strip("\n")))


def _identity(snippet: Snippet) -> tuple:
    """Snippets with the same identity show the same thing: a recent file's chunk may also be the most similar
    one, a name may be imported twice."""
    return (snippet.path, snippet.line) if snippet.kind in CHUNK_KINDS else (snippet.path, snippet.text)


# -- rendering ---------------------------------------------------------------------------------------------
def _render(snippet: Snippet, language: str | None, roots: Sequence[Path], separated: bool) -> str:
    if separated:  # the separator token in front is the selector's: tokenizing text never makes one
        return f"{_shown_path(snippet.path, roots)}\n{snippet.text.rstrip()}\n"
    comment = LINE_COMMENT.get(language or "", DEFAULT_COMMENT)
    return f"{comment} {_shown_path(snippet.path, roots)}\n{snippet.text.rstrip()}\n\n"


def _shown_path(path: Path, roots: Sequence[Path]) -> str:
    for root in roots:
        if root in path.parents:
            return path.relative_to(root).as_posix()
    return path.name
