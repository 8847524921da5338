"""Imports and shortened definitions read with tree-sitter."""

from __future__ import annotations

from kvcomplete.completion.prompt.outline import DOCSTRING_LINES, Import, definitions, imports, module_outline

IMPORTS = '''import os.path as osp, sys
from .a import b as c, d
from ..x.y import (z)
from . import m
if sys.platform == "win32":
    import winreg
try:
    from json import loads
except ImportError:
    loads = None
def f():
    import inside
value = call(lambda: __import__("not_a_statement"))
'''

MODULE = '''"""A module."""

LIMIT = 3
TABLE = {
    "a": 1,
    "b": 2,
    "c": 3,
}


@cache
def lookup(key: str,
           default: int = 0) -> int:
    """''' + "\n    ".join(f"Line {n}." for n in range(DOCSTRING_LINES + 4)) + '''
    """
    return TABLE.get(key, default)


class Store(Base):
    """Keeps things."""

    size = 0

    def put(self, key):
        self.size += 1

    @property
    def empty(self) -> bool:
        return not self.size


def lookup(key):
    return None
'''


def test_imports_at_any_statement_depth_with_levels_and_aliases():
    assert imports(IMPORTS) == [
        Import("os.path", 0, (), ("osp",)), Import("sys", 0, (), ("sys",)),
        Import("a", 1, ("b", "d"), ("c", "d")), Import("x.y", 2, ("z",), ("z",)), Import("", 1, ("m",), ("m",)),
        Import("winreg", 0, (), ("winreg",)), Import("json", 0, ("loads",), ("loads",)),
        Import("inside", 0, (), ("inside",)),
    ]


def test_definitions_are_headers_docstrings_and_outlines():
    found = definitions(MODULE)
    assert found["LIMIT"] == "LIMIT = 3"
    assert found["TABLE"] == "TABLE = { ..."  # longer than three lines: the first one
    assert found["Store"] == '''class Store(Base):
    """Keeps things."""
    size = 0
    def put(self, key): ...
    @property
    def empty(self) -> bool: ...'''
    assert found["lookup"] == "def lookup(key):\n    ..."  # the last definition, as Python binds it
    assert set(found) == {"LIMIT", "TABLE", "lookup", "Store"}


def test_a_long_docstring_is_cut_and_closed():
    first = MODULE[: MODULE.index("class Store")]
    lines = [f"    Line {n}." for n in range(DOCSTRING_LINES)]  # the first DOCSTRING_LINES lines
    assert definitions(first)["lookup"] == "\n".join(
        ["@cache", "def lookup(key: str,", "           default: int = 0) -> int:", '    """Line 0.', *lines[1:],
         '    ..."""', "    ..."])


def test_module_outline_lists_top_level_headers():
    assert module_outline(MODULE) == "\n".join([
        "@cache\ndef lookup(key: str,\n           default: int = 0) -> int: ...",
        "class Store(Base): ...",
        "def lookup(key): ...",
    ])
