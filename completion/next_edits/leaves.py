"""Tree-sitter leaves of a text, the unit next edits compare and match: identifiers, keywords and punctuation
by kind and text; strings', comments' and numbers' text word by word (so that ``"2.3.0"`` → ``"2.4.0"`` is a
change of the word ``3``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import NamedTuple

# Leaves matched word by word: a word of these is the same text in any of them (a version number or a URL's
# part changed in a comment is the same change in a string or a number literal).
TEXT_KINDS = {"string_content", "comment", "line_comment", "block_comment", "integer", "float", "number",
              "number_literal", "integer_literal", "float_literal"}
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
class LeafChange:
    """The edited lines' leaves as prefix + deleted + suffix before, prefix + inserted + suffix after."""

    prefix: list[Leaf]  # in the new text
    deleted: list[Leaf]  # in the old text
    inserted: list[Leaf]  # in the new text
    suffix: list[Leaf]  # in the new text


def leaves(tree, start: int = 0, end: int | None = None) -> list[Leaf]:
    """The leaves of ``tree`` that lie within bytes [start, end), in order (subtrees outside are skipped). A
    string's, comment's or number's words count one by one (a docstring's words on the lines), escapes included."""
    end = tree.root_node.end_byte if end is None else end
    found, cursor = [], tree.walk()
    while True:
        node = cursor.node
        inside = node.start_byte < end and node.end_byte > start
        if inside and node.type in TEXT_KINDS:
            found += [word for word in _words(node) if word.start >= start and word.end <= end]
        elif inside and node.child_count == 0:
            if node.start_byte >= start and node.end_byte <= end and node.end_byte > node.start_byte:
                found.append(Leaf(node.type, node.text, node.start_byte, node.end_byte))
        elif inside and cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return found


def _words(node) -> list[Leaf]:
    """A string's, comment's or number's text as leaves of its words and single marks (same kind as the node), so that
    a change inside one is matched word by word in the others."""
    return [Leaf(node.type, word.group(), node.start_byte + word.start(), node.start_byte + word.end())
            for word in _WORD.finditer(node.text)]


def leaf_change(old: list[Leaf], new: list[Leaf]) -> LeafChange:
    """Split the edited lines' leaves into common prefix, deleted, inserted and common suffix. When the lines
    changed in several places, each the same change (``"a\\n", "b\\n"`` → ``"a", "b"``), the first of them:
    the others are then found like any other place."""
    hunks = [(i1, i2, j1, j2) for tag, i1, i2, j1, j2
             in SequenceMatcher(None, [leaf.key for leaf in old], [leaf.key for leaf in new], False).get_opcodes()
             if tag != "equal"]
    changes = {(tuple(leaf.key for leaf in old[i1:i2]), tuple(leaf.key for leaf in new[j1:j2]))
               for i1, i2, j1, j2 in hunks}
    if len(hunks) > 1 and len(changes) == 1:
        i1, i2, j1, j2 = hunks[0]
        return LeafChange(new[:j1], old[i1:i2], new[j1:j2], new[j2:])
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix].key == new[prefix].key:
        prefix += 1
    suffix = 0
    while suffix < min(len(old), len(new)) - prefix and old[-1 - suffix].key == new[-1 - suffix].key:
        suffix += 1
    return LeafChange(new[:prefix], old[prefix: len(old) - suffix], new[prefix: len(new) - suffix],
                      new[len(new) - suffix:])
