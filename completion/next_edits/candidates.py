"""Where else the user's last edit could be made: places holding the same tree-sitter leaves it changed.

The edited lines before and after are compared as sequences of leaf tokens (identifiers, keywords,
punctuation, literals: kind and text; strings and comments word by word). Their common prefix and suffix are
anchors; what lies between them was deleted and inserted. A rename (one identifier replaced by another) is
proposed wherever the old identifier occurs; any other change where its left-anchor leaves (the last 3, 2, 1
or 0 of the prefix), the deleted leaves and the right-anchor leaf (the first of the suffix) occur in that
order, at least two leaves in all, longer anchors first. Each place becomes a Candidate: the same replacement
at that place, in the text as it is now. Matching is on leaves, never on raw substrings, so ``bar`` never
matches inside ``foobar``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from kvcomplete.completion.next_edits.edits import LastEdit
from kvcomplete.completion.text.syntax import _parser  # one cached parser per language

MAX_CANDIDATES = 64
MAX_ANCHORS = 3  # left-anchor leaves tried first; fewer are tried while there is room for candidates
SEARCH_BYTES = 16_000  # places are looked for this far before and after the edit (a window is ~4 KB of code)
MAX_TEXT_BYTES = 256_000  # larger documents get no next edits: two parses per edit would cost too much
PROSE = {"string_content", "comment", "line_comment", "block_comment"}  # leaves matched word by word
_WORD = re.compile(rb"\w+|[^\w\s]")


class Leaf(NamedTuple):
    kind: str
    text: bytes
    start: int  # byte offsets in the parsed text
    end: int

    @property
    def key(self) -> tuple[str, bytes]:
        return self.kind, self.text


@dataclass(frozen=True, slots=True)
class Candidate:
    """Replace code points [start, end) of the current text (now ``old``) with ``new``."""

    start: int
    end: int
    old: str
    new: str
    anchors: int  # leaves matched around the replaced ones: more is more specific


@dataclass(frozen=True, slots=True)
class LeafChange:
    """The edited lines' leaves as prefix + deleted + suffix before, prefix + inserted + suffix after."""

    prefix: list[Leaf]  # in the new text
    deleted: list[Leaf]  # in the old text
    inserted: list[Leaf]  # in the new text
    suffix: list[Leaf]  # in the new text


def leaves(tree, start: int = 0, end: int | None = None) -> list[Leaf]:
    """The leaves of ``tree`` that lie within bytes [start, end), in order (subtrees outside are skipped)."""
    end = tree.root_node.end_byte if end is None else end
    found, cursor = [], tree.walk()
    while True:
        node = cursor.node
        inside = node.start_byte < end and node.end_byte > start
        if inside and node.child_count == 0:
            if node.start_byte >= start and node.end_byte <= end and node.end_byte > node.start_byte:
                found += _words(node) if node.type in PROSE else [Leaf(node.type, node.text, node.start_byte,
                                                                       node.end_byte)]
        elif inside and cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return found


def _words(node) -> list[Leaf]:
    """A string's or comment's text as leaves of its words and single marks (same kind as the node), so that
    a change inside one is matched word by word in the others."""
    return [Leaf(node.type, word.group(), node.start_byte + word.start(), node.start_byte + word.end())
            for word in _WORD.finditer(node.text)]


def leaf_change(old: list[Leaf], new: list[Leaf]) -> LeafChange:
    """Split the edited lines' leaves into common prefix, deleted, inserted and common suffix."""
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix].key == new[prefix].key:
        prefix += 1
    suffix = 0
    while suffix < min(len(old), len(new)) - prefix and old[-1 - suffix].key == new[-1 - suffix].key:
        suffix += 1
    return LeafChange(new[:prefix], old[prefix: len(old) - suffix], new[prefix: len(new) - suffix],
                      new[len(new) - suffix:])


def _is_rename(change: LeafChange) -> bool:
    deleted, inserted = change.deleted, change.inserted
    return (len(deleted) == 1 and len(inserted) == 1 and deleted[0].kind == inserted[0].kind
            and deleted[0].kind.endswith("identifier"))


def _replacement(change: LeafChange, data: bytes) -> bytes:
    """What the edit put between the anchors (bytes of the new text ``data``): the inserted leaves, with the
    spaces typed around them when there was nothing to delete or no inserted leaf to end at."""
    prefix, inserted, suffix = change.prefix, change.inserted, change.suffix
    if not inserted:
        return b""
    if change.deleted:
        return data[inserted[0].start: inserted[-1].end]
    start = prefix[-1].end if prefix else inserted[0].start
    return data[start: suffix[0].start if suffix else inserted[-1].end]


class _Pattern(NamedTuple):
    left: list[Leaf]
    right: Leaf | None

    def region(self, match: list[Leaf], deleted: int, takes_spaces: bool) -> tuple[int, int]:
        """Bytes the replacement takes in a place whose leaves are ``match`` (left + deleted + right); with
        ``takes_spaces`` the spaces before the deleted leaves too."""
        k = len(self.left)
        if deleted:
            first, last = match[k], match[k + deleted - 1]
            return (match[k - 1].end if k and takes_spaces else first.start), last.end
        at = match[k - 1].end if k else match[k].start
        return at, at


def _takes_spaces(change: LeafChange, data: bytes) -> bool:
    """Whether a pure deletion also took the spaces before what it deleted: the user left no space between
    its anchors (``x = 1  # note`` → ``x = 1``, but ``from .pkg.mod`` → ``from mod`` keeps its space)."""
    if change.inserted or not change.prefix:
        return False
    gap = data[change.prefix[-1].end: change.suffix[0].start] if change.suffix else b""
    return not gap.strip(b"\r\n")


def _patterns(change: LeafChange) -> list[_Pattern]:
    """Anchors to look for, most specific first."""
    if _is_rename(change):
        return [_Pattern([], None)]
    right = change.suffix[0] if change.suffix else None
    prefix = change.prefix
    patterns = [_Pattern(prefix[len(prefix) - k:], right) for k in range(min(MAX_ANCHORS, len(prefix)), -1, -1)]
    size = len(change.deleted) + (right is not None)
    return [p for p in patterns if len(p.left) + size >= 2]


def find_candidates(text: str, edit: LastEdit, language: str | None, limit: int = MAX_CANDIDATES) -> list[Candidate]:
    """Places in ``text`` (the current text) where the same change as ``edit`` could be made, within
    SEARCH_BYTES of it, most anchors first, then nearest after the edit, then nearest before it; at most
    ``limit``. None without a grammar for ``language``."""
    parser = _parser(language) if language else None
    if parser is None or edit.old == edit.new(text):
        return []
    data = text.encode("utf-8")
    if len(data) > MAX_TEXT_BYTES:
        return []
    old_data = (text[: edit.start] + edit.old + text[edit.end:]).encode("utf-8")
    start = len(text[: edit.start].encode("utf-8"))
    end, old_end = start + len(edit.new(text).encode("utf-8")), start + len(edit.old.encode("utf-8"))
    tree = parser.parse(data)
    document = leaves(tree, max(0, start - SEARCH_BYTES), end + SEARCH_BYTES)
    edited = [leaf for leaf in document if leaf.start >= start and leaf.end <= end]
    change = leaf_change(leaves(parser.parse(old_data), start, old_end), edited)
    if not change.deleted and not change.inserted:
        return []
    replacement = _replacement(change, data).decode("utf-8")
    takes_spaces = _takes_spaces(change, data)
    found: dict[tuple[int, int], tuple[int, int]] = {}
    by_key: dict[tuple[str, bytes], list[int]] = defaultdict(list)
    for index, leaf in enumerate(document):
        by_key[leaf.key].append(index)
    for pattern in _patterns(change):
        keys = [leaf.key for leaf in pattern.left] + [leaf.key for leaf in change.deleted]
        keys += [pattern.right.key] if pattern.right is not None else []
        for index in by_key.get(keys[0], ()):
            match = document[index: index + len(keys)]
            if [leaf.key for leaf in match] != keys:
                continue
            region = pattern.region(match, len(change.deleted), takes_spaces)
            if region[0] <= end and region[1] >= start or region in found:
                continue  # the edited place itself, or already found with longer anchors
            found[region] = (-len(pattern.left) - (pattern.right is not None), *_distance(region, start, end))
        if len(found) >= limit:
            break
    chosen = sorted(found, key=found.__getitem__)[:limit]
    to_chars = _char_offsets(text, data)
    return [Candidate(to_chars(a), to_chars(b), text[to_chars(a): to_chars(b)], replacement, -found[(a, b)][0])
            for a, b in chosen]


def _distance(region: tuple[int, int], start: int, end: int) -> tuple[int, int]:
    """Sort key: places after the edit first (nearest first), then places before it (nearest first)."""
    return (0, region[0] - end) if region[0] > end else (1, start - region[1])


def _char_offsets(text: str, data: bytes):
    """byte offset → code-point offset in ``text`` (whose UTF-8 is ``data``)."""
    if len(data) == len(text):
        return lambda offset: offset
    ends = []
    position = 0
    for char in text:
        position += len(char.encode("utf-8"))
        ends.append(position)
    return lambda offset: bisect_right(ends, offset)
