"""The project's files as git lists them (without a git binary), and reading one as text.

The files are those git would track or show as untracked: every ``.gitignore`` applies to its own folder and
below (deeper ones win), then ``.git/info/exclude``; ``.git`` and ignored folders are not entered, symbolic
links are not followed. ``pathspec`` implements gitignore's matching. Binary (NUL bytes), non-UTF-8 and
too large files read as None.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pathspec

IGNORE_FILE = ".gitignore"
GIT_FOLDER = ".git"
_Rules = tuple[tuple[str, pathspec.GitIgnoreSpec], ...]  # (folder relative to the root, with "/"; its patterns)


def _read_rules(path: Path) -> pathspec.GitIgnoreSpec | None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    return spec if spec.patterns else None


def _ignored(rules: _Rules, relative: str) -> bool:
    """Whether ``relative`` (a folder ends with "/") is ignored: the deepest ignore file with a pattern that
    matches it decides (a ``!`` pattern re-includes)."""
    for base, spec in reversed(rules):
        if relative.startswith(base):
            include = spec.check_file(relative[len(base):]).include
            if include is not None:
                return include
    return False


def _root_rules(root: Path) -> _Rules:
    exclude = _read_rules(root / GIT_FOLDER / "info" / "exclude")  # below every .gitignore in precedence
    return (("", exclude),) if exclude else ()


def list_files(root: Path) -> Iterator[Path]:
    """The files under ``root`` that git would track or show as untracked, in sorted depth-first order."""
    yield from _walk(root, "", _root_rules(root))


def _walk(folder: Path, relative: str, rules: _Rules) -> Iterator[Path]:
    here = _read_rules(folder / IGNORE_FILE)
    if here is not None:
        rules = rules + ((relative, here),)
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        if entry.name == GIT_FOLDER:
            continue
        path = relative + entry.name
        if entry.is_dir(follow_symlinks=False):
            if not _ignored(rules, path + "/"):
                yield from _walk(Path(entry.path), path + "/", rules)
        elif entry.is_file(follow_symlinks=False) and not _ignored(rules, path):
            yield Path(entry.path)


def enclosing_git_root(path: Path) -> Path | None:
    """The nearest folder at or above ``path`` that holds a ``.git`` (folder, or file for a worktree)."""
    for folder in [path, *path.parents]:
        if (folder / GIT_FOLDER).exists():
            return folder
    return None


def is_listed(root: Path, path: Path) -> bool:
    """Whether ``list_files(root)`` would list ``path`` (an existing file), without listing the rest."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return False
    if not path.is_file() or path.is_symlink() or GIT_FOLDER in parts:
        return False
    rules, folder, relative = _root_rules(root), root, ""
    for name in parts[:-1]:
        here = _read_rules(folder / IGNORE_FILE)
        if here is not None:
            rules = rules + ((relative, here),)
        folder, relative = folder / name, relative + name + "/"
        if _ignored(rules, relative) or folder.is_symlink():
            return False
    here = _read_rules(folder / IGNORE_FILE)
    if here is not None:
        rules = rules + ((relative, here),)
    return not _ignored(rules, relative + parts[-1])


def read_text(path: Path, max_bytes: int) -> str | None:
    """The file's text, or None when it is missing, larger than ``max_bytes``, binary or not UTF-8."""
    try:
        if path.stat().st_size > max_bytes:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if len(data) > max_bytes or b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
