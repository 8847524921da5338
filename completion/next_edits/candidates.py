"""Where else the user's last edit could be made: places holding the same tree-sitter leaves it changed.

The edited lines before and after are compared as sequences of leaves (leaves.py). Their common prefix and
suffix are anchors; what lies between them was deleted and inserted. A rename (one identifier replaced by
another) is proposed wherever the old identifier occurs; any other change where its left-anchor leaves (the
last 3, 2, 1 or 0 of the prefix), the deleted leaves and the right anchor (the first leaf of the suffix, or
the line's end) occur in that order, or for a deletion or replacement without the right anchor, at least two
leaves and anchors in all, most anchors first; a word of a comment, string or number replaced by another
word also wherever that word is in one of those. Each place becomes a Candidate: the same replacement at
that place, in the text as it is now; a line where it fits more than once also gets one candidate making it
at all of them. Matching is on leaves, never on raw substrings, so ``bar`` never matches inside ``foobar``.
Each candidate carries the edit's kind: a rename (and whether it renamed a definition every other use of the
name refers to), a word changed, or another change.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from kvcomplete.completion.next_edits.edits import LastEdit
from kvcomplete.completion.next_edits.leaves import TEXT_KINDS, Leaf, LeafChange, leaf_change, leaves
from kvcomplete.completion.text.syntax import _parser  # one cached parser per language

MAX_CANDIDATES = 64
MAX_ANCHORS = 3  # left-anchor leaves tried first; fewer are tried while there is room for candidates
SEARCH_BYTES = 64_000  # places are looked for this far before and after the edit (a window is ~4 KB of code)
MAX_TEXT_BYTES = 256_000  # larger documents get no next edits: two parses per edit would cost too much
# A Candidate's ``kind``: an identifier renamed; an imported or module-level name renamed; a parameter renamed
# (its other places are mostly other functions' parameters); a word of a string, comment or number replaced (None:
# any other change).
RENAME, DEFINITION, PARAMETER, WORD = "rename", "definition", "parameter", "word"


@dataclass(frozen=True, slots=True)
class Candidate:
    """Replace code points [start, end) of the current text (now ``old``) with ``new``."""

    start: int
    end: int
    old: str
    new: str
    anchors: int  # leaves matched around the replaced ones: more is more specific
    line: int | None = None  # candidates of one line are alternatives: at most one of them is proposed
    kind: str | None = None  # RENAME, DEFINITION, PARAMETER, WORD or None: the edit's


def _is_rename(change: LeafChange) -> bool:
    deleted, inserted = change.deleted, change.inserted
    return (len(deleted) == 1 and len(inserted) == 1 and deleted[0].kind == inserted[0].kind
            and deleted[0].kind.endswith("identifier"))


def _kind(change: LeafChange, tree) -> str | None:
    """RENAME for a rename, DEFINITION when what it renamed is imported or defined at the module's top level (a
    def, a class, an assignment's target: every other use of the old name in the file is now dangling), PARAMETER
    when it is a parameter, WORD for a word change, else None."""
    if not _is_rename(change):
        return WORD if _is_word_change(change) else None
    node = tree.root_node.descendant_for_byte_range(change.inserted[0].start, change.inserted[0].end)
    ancestor = node
    while ancestor is not None:
        if "import" in ancestor.type:
            return DEFINITION
        if "parameter" in ancestor.type:
            return PARAMETER
        ancestor = ancestor.parent
    parent = node.parent
    defined = parent is not None and (parent.child_by_field_name("name") == node and parent.type.endswith(
        ("_definition", "_declaration")) or parent.type == "assignment" and parent.child_by_field_name("left") == node)
    wrappers = ("decorated_definition", "expression_statement")  # around a definition at the top level
    while defined and parent.parent is not None and parent.parent.type in wrappers:
        parent = parent.parent
    return DEFINITION if defined and parent.parent == tree.root_node else RENAME


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
    """Leaves to find in order: ``left`` (anchors), ``deleted``, then ``right`` (an anchor) when there is one;
    with ``line_end`` the last of them ends its line; ``loose`` matches one word by its text in any TEXT_KINDS."""

    left: list[Leaf]
    deleted: list[Leaf]
    right: Leaf | None
    line_end: bool = False
    loose: bool = False

    @property
    def anchors(self) -> int:
        return len(self.left) + (self.right is not None) + self.line_end

    @property
    def keys(self) -> list[tuple[str, bytes]]:
        return [leaf.key for leaf in (*self.left, *self.deleted, *([self.right] if self.right else []))]

    def region(self, match: list[Leaf], data: bytes, takes_spaces: bool, after_prefix: bool) -> tuple[int, int]:
        """Bytes the replacement takes in a place whose leaves are ``match``: the deleted leaves, with
        ``takes_spaces`` the blanks before them too. An insertion replaces the blanks between its anchors, as
        the user's new text (``after_prefix``: from the prefix's end) holds the spaces it needs there."""
        k, deleted = len(self.left), len(self.deleted)
        if deleted:
            start, end = match[k].start, match[k + deleted - 1].end
            return _blanks_before(data, start) if takes_spaces else start, end
        if k:
            start = match[k - 1].end
        else:
            start = _blanks_before(data, match[0].start) if after_prefix else match[0].start
        return start, match[-1].start if self.right is not None and (k or after_prefix) else start

    def ends_line(self, match: list[Leaf], data: bytes) -> bool:
        end = match[-1].end
        line_end = data.find(b"\n", end)
        return not data[end: len(data) if line_end < 0 else line_end].strip()


def _blanks_before(data: bytes, at: int) -> int:
    """Where the blanks before byte ``at`` begin, unless they reach the start of the line (an indentation)."""
    space = at
    while space > 0 and data[space - 1] in b" \t":
        space -= 1
    return space if space > 0 and data[space - 1] != ord("\n") else at


def _takes_spaces(change: LeafChange, data: bytes) -> bool:
    """Whether a pure deletion also took the spaces before what it deleted: the user left no space between
    its anchors (``x = 1  # note`` → ``x = 1``, but ``from .pkg.mod`` → ``from mod`` keeps its space)."""
    if change.inserted or not change.prefix:
        return False
    gap = data[change.prefix[-1].end: change.suffix[0].start] if change.suffix else b""
    return not gap.strip(b"\r\n")


def _patterns(change: LeafChange) -> list[_Pattern]:
    """Anchors to look for, most specific first: the last MAX_ANCHORS to 0 leaves of the prefix, with the
    first leaf of the suffix (or the line's end) or, for a deletion or replacement, without it; at least two
    leaves in all. A word of a comment, string or number replaced by another is also looked for alone, in
    any of those kinds."""
    deleted, prefix = change.deleted, change.prefix
    if _is_rename(change):
        return [_Pattern([], deleted, None)]
    right, line_end = (change.suffix[0] if change.suffix else None), not change.suffix
    lefts = [prefix[len(prefix) - k:] for k in range(min(MAX_ANCHORS, len(prefix)), -1, -1)]
    patterns = [_Pattern(left, deleted, right, line_end) for left in lefts]
    if deleted and right is not None:
        patterns += [_Pattern(left, deleted, None) for left in lefts if left]
    patterns = sorted((p for p in patterns if len(p.left) + len(deleted) + (p.right is not None) + p.line_end >= 2),
                      key=lambda p: -p.anchors)
    if _is_word_change(change):
        patterns.append(_Pattern([], deleted, None, loose=True))
    return patterns


def _is_word_change(change: LeafChange) -> bool:
    """One word of a comment, string or number replaced by another word (``3`` → ``4``, ``http`` → ``https``)."""
    deleted, inserted = change.deleted, change.inserted
    return (len(deleted) == 1 and len(inserted) == 1 and deleted[0].kind in TEXT_KINDS
            and deleted[0].text.isalnum() and inserted[0].text.isalnum())


def find_candidates(text: str, edit: LastEdit, language: str | None, limit: int = MAX_CANDIDATES) -> list[Candidate]:
    """Places in ``text`` (the current text) where the same change as ``edit`` could be made, within
    SEARCH_BYTES of it, most anchors first, then nearest after the edit, then nearest before it; at most
    ``limit``, those on one line made one candidate. None without a grammar for ``language``."""
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
    takes_spaces = _takes_spaces(change, data)
    replacement = _replacement(change, data)
    found: dict[tuple[int, int], tuple[int, int, int]] = {}
    starts: dict[tuple[str, bytes], list[int]] = defaultdict(list)
    for index, leaf in enumerate(document):
        starts[leaf.key].append(index)
    for pattern in _patterns(change):
        for match in _matches(document, starts, pattern):
            region = pattern.region(match, data, takes_spaces, bool(change.prefix))
            if region[0] <= end and region[1] >= start or region in found:
                continue  # the edited place itself, or already found with more anchors
            if not pattern.line_end or pattern.ends_line(match, data):
                found[region] = (-pattern.anchors, *_distance(region, start, end))
        if len(found) >= limit:
            break
    chosen = sorted(found, key=found.__getitem__)[:limit]
    anchors = {region: -found[region][0] for region in chosen}
    to_chars = _char_offsets(text, data)
    kind = _kind(change, tree)
    return [_candidate(text, to_chars, data, line, places, replacement, min(anchors[place] for place in places),
                       kind) for line, places in _by_line(anchors, data)]


def _matches(document: list[Leaf], starts: dict[tuple[str, bytes], list[int]], pattern: _Pattern):
    """The runs of ``document``'s leaves that ``pattern`` matches (``starts``: leaf key → its indices)."""
    if pattern.loose:
        word = pattern.deleted[0].text
        for kind in TEXT_KINDS:
            yield from ([document[index]] for index in starts.get((kind, word), ()))
        return
    keys = pattern.keys
    for index in starts.get(keys[0], ()):
        if [leaf.key for leaf in document[index: index + len(keys)]] == keys:
            yield document[index: index + len(keys)]


def _by_line(anchors: dict[tuple[int, int], int], data: bytes) -> list[tuple[int, list[tuple[int, int]]]]:
    """Each region (in the order of ``anchors``: region → anchors matched) alone with its line, and for a
    line where the change fits more than once, after its first region, all of them as one more (those
    overlapping an earlier one dropped, and those matched without anchors when others were): which of these
    the user means is the model's call."""
    lines: dict[int, list[tuple[int, int]]] = {}
    places = []
    for region in anchors:
        line = data.count(b"\n", 0, region[0])
        places.append((line, [region]))
        lines.setdefault(line, []).append(region)
    merged = {}
    for line, regions in lines.items():
        anchored = [region for region in regions if anchors[region]] or regions
        kept: list[tuple[int, int]] = []
        for region in anchored:
            if all(region[1] <= a or region[0] >= b for a, b in kept):
                kept.append(region)
        if len(kept) > 1:
            merged[line] = (line, kept)
    return [item for line, regions in places
            for item in ([(line, regions), merged.pop(line)] if line in merged else [(line, regions)])]


def _candidate(text: str, to_chars: Callable[[int], int], data: bytes, line: int, places: list[tuple[int, int]],
               replacement: bytes, anchors: int, kind: str | None) -> Candidate:
    """One candidate making ``replacement`` at every one of ``places`` (byte regions of ``line``)."""
    places = sorted(places)
    first, last = places[0][0], places[-1][1]
    pieces, at = [], first
    for a, b in places:
        pieces += [data[at:a], replacement]
        at = b
    return Candidate(to_chars(first), to_chars(last), text[to_chars(first): to_chars(last)],
                     b"".join(pieces).decode("utf-8"), anchors, line, kind)


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
