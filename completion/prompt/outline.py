"""What a Python file imports and what another one defines, read with tree-sitter, for the context segment.

A completion that calls a function from another module needs its signature, not its body: a definition is
shown as its header (decorators, parameters, return type), its docstring and ``...``; a class as its header,
docstring, class attributes and method headers (an outline); a module imported whole as the headers of its
top-level functions and classes.
"""

from __future__ import annotations

from dataclasses import dataclass

from kvcomplete.completion.text.syntax import _parser  # one cached parser per language

FUNCTION, CLASS, DECORATED = "function_definition", "class_definition", "decorated_definition"
LONG_STATEMENT_LINES = 3  # an assignment longer than this shows its first line only
DOCSTRING_LINES = 8  # a longer docstring is cut after this many lines
# Nodes that can hold an import statement: compound statements and their blocks (expressions cannot).
_HOLDS_STATEMENTS = {"module", "block", "if_statement", "elif_clause", "else_clause", "try_statement", "except_clause",
                     "finally_clause", "with_statement", "for_statement", "while_statement", FUNCTION, CLASS, DECORATED}


@dataclass(frozen=True, slots=True)
class Import:
    """``from <level dots><module> import <names>``, or ``import <module>`` (no names)."""

    module: str  # dotted; "" for ``from . import x``
    level: int  # leading dots: 0 for an absolute import
    names: tuple[str, ...]  # the imported names (empty: the module itself is imported)
    bound: tuple[str, ...]  # the names the file uses for them (aliases; the dotted module of a plain import)


def _tree(text: str):
    parser = _parser("python")
    return None if parser is None else parser.parse(text.encode("utf-8")).root_node


def _text(node) -> str:
    return node.text.decode("utf-8", errors="replace")


def imports(text: str) -> list[Import]:
    """The file's imports, at any depth, in source order."""
    root = _tree(text)
    found: list[Import] = []
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if node.type == "import_statement":
            for name in node.children_by_field_name("name"):
                dotted, alias = _dotted_and_alias(name)
                found.append(Import(dotted, 0, (), (alias or dotted,)))
        elif node.type == "import_from_statement":
            found.append(_from_import(node))
        elif node.type in _HOLDS_STATEMENTS:
            stack.extend(reversed(node.children))
    return found


def _dotted_and_alias(node) -> tuple[str, str | None]:
    if node.type == "aliased_import":
        return _text(node.child_by_field_name("name")), _text(node.child_by_field_name("alias"))
    return _text(node), None


def _from_import(node) -> Import:
    module = node.child_by_field_name("module_name")
    level, dotted = 0, _text(module)
    if module.type == "relative_import":
        prefix = next(child for child in module.children if child.type == "import_prefix")
        level = prefix.end_byte - prefix.start_byte
        dotted = dotted[level:]
    pairs = [_dotted_and_alias(name) for name in node.children_by_field_name("name")]
    return Import(dotted, level, tuple(name for name, _ in pairs), tuple(alias or name for name, alias in pairs))


def definitions(text: str) -> dict[str, str]:
    """The top-level definitions in ``text`` by name, shortened as the module docstring says (one parse for
    all: a module's file is read once for every name imported from it)."""
    root = _tree(text)
    found: dict[str, str] = {}
    for node in root.children if root is not None else ():
        inner = _inner(node)
        if inner.type in (FUNCTION, CLASS):
            shown = _function(node) if inner.type == FUNCTION else _class(node)
            found[_text(inner.child_by_field_name("name"))] = shown
        elif inner.type == "expression_statement" and (name := _assigns(inner)) is not None:
            found[name] = _statement(inner)
    return found  # a name defined twice: the last definition, as Python binds it


def module_outline(text: str) -> str:
    """The headers of the top-level functions and classes, each followed by ``...``."""
    root = _tree(text)
    return "\n".join(_header(node) + " ..." for node in (root.children if root is not None else ())
                     if _inner(node).type in (FUNCTION, CLASS))


def _inner(node):
    """A decorated definition's function or class; any other node itself."""
    return node.child_by_field_name("definition") if node.type == DECORATED else node


def _assigns(statement) -> str | None:
    target = statement.children[0].child_by_field_name("left") if statement.children else None
    return _text(target) if target is not None and target.type == "identifier" else None


def _header(node) -> str:
    """Decorators and the ``def`` / ``class`` line(s) up to the colon that opens the body."""
    body = _inner(node).child_by_field_name("body")
    return node.text[: body.start_byte - node.start_byte].decode("utf-8", errors="replace").rstrip()


def _docstring(body) -> str | None:
    """The body's docstring, its first DOCSTRING_LINES lines when longer (closed with its own quotes)."""
    first = body.children[0] if body.children else None
    if first is None or first.type != "expression_statement" or first.children[0].type != "string":
        return None
    lines = _text(first).splitlines()
    if len(lines) <= DOCSTRING_LINES:
        return "\n".join(lines)
    quote = _text(first.children[0].children[0]).lstrip("rRbBuUfF")  # string_start: prefix and quotes
    indent = " " * first.start_point.column
    return "\n".join(lines[:DOCSTRING_LINES] + [indent + "..." + quote])


def _body_indent(node) -> str:
    return " " * (_inner(node).child_by_field_name("body").start_point.column)


def _function(node) -> str:
    body = _inner(node).child_by_field_name("body")
    docstring, indent = _docstring(body), _body_indent(node)
    return "\n".join([_header(node)] + ([indent + docstring] if docstring else []) + [indent + "..."])


def _class(node) -> str:
    body = _inner(node).child_by_field_name("body")
    indent = _body_indent(node)
    lines = [_header(node)]
    docstring = _docstring(body)
    if docstring:
        lines.append(indent + docstring)
    for member in body.children:
        if _inner(member).type in (FUNCTION, CLASS):
            lines.append(indent + _header(member) + " ...")
        elif member.type == "expression_statement" and _assigns(member) is not None:
            lines.append(indent + _statement(member))
    return "\n".join(lines)


def _statement(statement) -> str:
    lines = _text(statement).splitlines()
    return "\n".join(lines) if len(lines) <= LONG_STATEMENT_LINES else lines[0] + " ..."
