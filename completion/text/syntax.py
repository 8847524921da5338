"""What the code around the cursor is, syntactically: does the cursor open a block, is it in a string?

tree-sitter parses the document for languages whose grammar package is installed (Python always: it is a
dependency); other languages fall back to a look at the last character before the cursor.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePath

EXTENSIONS = {".py": "python", ".pyi": "python", ".js": "javascript", ".ts": "typescript", ".rs": "rust",
              ".go": "go", ".c": "c", ".h": "c", ".cpp": "cpp", ".java": "java", ".lua": "lua", ".rb": "ruby"}
# Python nodes whose ':' opens an indented block.
PYTHON_BLOCK_OWNERS = {
    "function_definition", "class_definition", "if_statement", "elif_clause", "else_clause", "for_statement",
    "while_statement", "with_statement", "try_statement", "except_clause", "finally_clause", "match_statement",
    "case_clause", "decorated_definition",
}
STRING_OR_COMMENT = {"string", "string_content", "comment", "line_comment", "block_comment", "template_string"}


@dataclass(frozen=True, slots=True)
class SyntaxContext:
    opens_block: bool  # the last code before the cursor opens a block (":" in Python, "{" elsewhere)
    in_string_or_comment: bool


def language_of(uri_or_path: str, language_id: str | None = None) -> str | None:
    if language_id:
        return language_id.lower()
    return EXTENSIONS.get(PurePath(uri_or_path).suffix.lower())


@lru_cache(maxsize=None)
def _parser(language: str):
    """A tree-sitter parser for ``language``, or None when no grammar package is installed."""
    try:
        import tree_sitter

        grammar = importlib.import_module(f"tree_sitter_{language}")
        return tree_sitter.Parser(tree_sitter.Language(grammar.language()))
    except (ImportError, AttributeError, ValueError):
        return None


def context_at(text: str, offset: int, language: str | None) -> SyntaxContext:
    before = text[:offset].rstrip()
    if not before:
        return SyntaxContext(False, False)
    parser = _parser(language) if language else None
    if parser is None:
        return SyntaxContext(opens_block=before.endswith(("{", ":")), in_string_or_comment=False)
    data = text.encode("utf-8")
    tree = parser.parse(data)
    last = len(before.encode("utf-8")) - 1
    node = tree.root_node.descendant_for_byte_range(last, last + 1)
    cursor = len(text[:offset].encode("utf-8"))
    inside = tree.root_node.descendant_for_byte_range(max(cursor - 1, 0), cursor)
    in_string = any(n.type in STRING_OR_COMMENT for n in _ancestors(inside)) and cursor < inside.end_byte
    if language == "python":
        opens = node.type == ":" and node.parent is not None and node.parent.type in PYTHON_BLOCK_OWNERS
    else:
        opens = node.type == "{"
    return SyntaxContext(opens_block=opens, in_string_or_comment=in_string)


def _ancestors(node):
    while node is not None:
        yield node
        node = node.parent
