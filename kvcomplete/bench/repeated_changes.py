"""Repeated changes mined from a repository's git history: the cases of the next-edits benchmark.

A commit makes a *repeated change* in a Python file when its diff of that file, read with ``git log -p -U0``,
is nothing but one small change made on several lines: every hunk removes as many lines as it adds (paired in
order), each pair's token-level change (``line_change``) is one same ``Change``, repeated on at least two lines,
and it is more than whitespace. A rename applied at three call sites, an argument added to two calls.

The rules are fixed in advance, not tuned on what they find: the newest ``max_commits`` non-merge commits
that modify a Python file (``git log`` order: newest first), files in diff order, the file at most
``max_file_bytes``, UTF-8 and "\n"-ended before the commit; stop after ``max_cases`` cases.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

TOKEN = re.compile(r"\w+|\s+|[^\w\s]")  # identifiers and numbers, runs of blanks, single punctuation marks
HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
COMMIT_MARK = "\x00commit "  # starts each commit's line in the log (--format=%x00commit; no diff line has a NUL)
END_OF_LINE = "\n"  # the anchor of an insertion at the end of a line


@dataclasses.dataclass(frozen=True, slots=True)
class Change:
    """A token-level change: ``old`` becomes ``new``; an insertion (``old`` empty) goes before the token
    ``anchor`` (END_OF_LINE at the end of the line), a replacement has no anchor."""

    old: str
    new: str
    anchor: str = ""

    def __str__(self) -> str:
        if self.old:
            return f"{self.old!r} → {self.new!r}"
        return f"insert {self.new!r} before {self.anchor!r}"


@dataclasses.dataclass(frozen=True, slots=True)
class ChangedLine:
    line: int  # 0-based, in the file before the commit (the same after it: each hunk keeps its line count)
    old: str
    new: str


@dataclasses.dataclass(frozen=True, slots=True)
class Case:
    """One file of one commit: its text before the commit and its changed lines in order."""

    commit: str
    date: str  # the commit's committer date, ISO 8601
    path: str
    before: str
    change: Change
    lines: tuple[ChangedLine, ...]

    @property
    def name(self) -> str:
        return f"{self.commit[:10]}:{self.path}"


def tokens(line: str) -> list[str]:
    return TOKEN.findall(line)


def token_edits(old: str, new: str) -> list[tuple[int, int, str]]:
    """The stretches where ``new`` differs from ``old``, tokens aligned by difflib: (start, end) of ``old`` (in
    characters) and the text that replaces it, left to right."""
    before, after = tokens(old), tokens(new)
    starts = [0]
    for token in before:
        starts.append(starts[-1] + len(token))
    return [(starts[old_start], starts[old_end], "".join(after[new_start:new_end]))
            for operation, old_start, old_end, new_start, new_end
            in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes() if operation != "equal"]


def line_change(old: str, new: str) -> Change | None:
    """The one change that turns ``old`` into ``new`` wherever it is made (once or more on the line), or None
    when the line changes in different ways."""
    found = set()
    for start, end, text in token_edits(old, new):
        anchor = "" if start < end else next(iter(tokens(old[end:])), END_OF_LINE)
        found.add(Change(old[start:end], text, anchor))
    return found.pop() if len(found) == 1 else None


def repeated_change(pairs: list[tuple[str, str]]) -> Change | None:
    """The change every (old, new) line pair makes, when it is one, on two lines or more, and not only blanks."""
    changes = {line_change(old, new) for old, new in pairs}
    if len(pairs) < 2 or len(changes) != 1:
        return None
    change = changes.pop()
    if change is None or not (change.old + change.new).strip():
        return None
    return change


@dataclasses.dataclass(slots=True)
class FileDiff:
    """One file's -U0 hunks in one commit, as line pairs; ``paired`` turns False on a hunk that adds or removes lines."""

    commit: str
    date: str
    path: str
    lines: list[ChangedLine] = dataclasses.field(default_factory=list)
    paired: bool = True


def parse_log(log: str) -> Iterator[FileDiff]:
    """The file diffs of ``git log -p -U0`` output written with the format COMMIT_MARK + "%H %cI"."""
    commit = date = ""
    current: FileDiff | None = None
    lines = iter(log.split("\n"))
    for line in lines:
        if line.startswith(COMMIT_MARK):
            commit, date = line[len(COMMIT_MARK):].split(" ", 1)
        elif line.startswith("diff --git "):
            if current is not None:
                yield current
            current = None
        elif line.startswith("+++ b/") and commit:
            current = FileDiff(commit, date, line[len("+++ b/"):])
        elif current is not None and (hunk := HUNK.match(line)):
            old_start, old_count, _, new_count = (int(group) if group is not None else 1 for group in hunk.groups())
            removed, added = hunk_body(lines, old_count, new_count)
            if old_count != new_count:
                current.paired = False
                continue
            current.lines += [ChangedLine(old_start - 1 + number, old, new)
                              for number, (old, new) in enumerate(zip(removed, added))]
    if current is not None:
        yield current


def hunk_body(lines: Iterator[str], old_count: int, new_count: int) -> tuple[list[str], list[str]]:
    """A -U0 hunk's removed and added lines, read from ``lines`` ("\\ No newline at end of file" skipped)."""
    removed: list[str] = []
    added: list[str] = []
    while len(removed) < old_count or len(added) < new_count:
        text = next(lines)
        if text.startswith("-"):
            removed.append(text[1:])
        elif text.startswith("+"):
            added.append(text[1:])
    return removed, added


def git(repo: Path, *arguments: str) -> bytes:
    return subprocess.run(["git", "-C", str(repo), *arguments], check=True, capture_output=True).stdout


def file_before(repo: Path, commit: str, path: str, max_bytes: int) -> str | None:
    """The file's text in the commit's first parent, or None when it is larger than ``max_bytes`` or not UTF-8."""
    size = int(git(repo, "cat-file", "-s", f"{commit}^:{path}"))
    if size > max_bytes:
        return None
    try:
        return git(repo, "show", f"{commit}^:{path}").decode("utf-8")
    except UnicodeDecodeError:
        return None


def matches(text: str, changed: list[ChangedLine]) -> bool:
    """Whether the diff's old lines are the text's lines at their numbers, the text's lines ending at "\n" only
    (the replay's positions count lines as the client does)."""
    text_lines = text.split("\n")
    return "\r" not in text and all(line.line < len(text_lines) and text_lines[line.line] == line.old
                                    for line in changed)


def mine(repo: Path, max_commits: int = 2000, max_cases: int = 100, max_file_bytes: int = 100_000) -> Iterator[Case]:
    """The repeated changes of ``repo``'s newest ``max_commits`` commits that modify a Python file, newest first."""
    log = git(repo, "-c", "core.quotepath=off", "log", "-p", "-U0", "--no-merges", "--no-renames", "--no-color",
              "--diff-filter=M", f"--max-count={max_commits}", "--format=%x00commit %H %cI", "--", "*.py")
    found = 0
    for diff in parse_log(log.decode("utf-8", "replace")):
        change = repeated_change([(line.old, line.new) for line in diff.lines]) if diff.paired else None
        if change is None:
            continue
        before = file_before(repo, diff.commit, diff.path, max_file_bytes)
        if before is None or not matches(before, diff.lines):
            continue
        yield Case(diff.commit, diff.date, diff.path, before, change, tuple(diff.lines))
        found += 1
        if found >= max_cases:
            return


def summary(cases: list[Case]) -> dict:
    """How many cases, commits and changed lines were found (the counts the report shows)."""
    return {"cases": len(cases), "commits": len({case.commit for case in cases}),
            "changed_lines": sum(len(case.lines) for case in cases),
            "insertions": sum(not case.change.old for case in cases)}
