"""The import map: no circle among our modules, and layers that only import downwards.

kernels → completion → lsp_server → demo → kvcomplete (the command line and benchmarks): each layer may
import the ones before it, never one after it. Read from the source with ``ast``, so a lazy import inside a
function counts for the layers (it is still a dependency) but not for circles (it does not run at import).
"""

from __future__ import annotations

import ast
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
LAYERS = ("kernels", "completion", "lsp_server", "demo", "kvcomplete")  # folders, lowest first


def _modules() -> dict[str, Path]:
    """Dotted name → file for every module of ours (folders install as kvcomplete.<folder>)."""
    modules = {}
    for folder in LAYERS:
        package = "kvcomplete" if folder == "kvcomplete" else f"kvcomplete.{folder}"
        for path in (REPOSITORY / folder).rglob("*.py"):
            parts = [part for part in path.relative_to(REPOSITORY / folder).with_suffix("").parts if part != "__init__"]
            modules[".".join([package, *parts])] = path
    return modules


def _imported(tree: ast.Module, module_level_only: bool) -> set[str]:
    """What ``tree`` imports of ours (``from X import Y`` counts X and, when it is a module, X.Y)."""
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kvcomplete"):
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names if alias.name.startswith("kvcomplete")}
    return names


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS[:-1] else len(LAYERS) - 1


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for neighbour in graph[node]:
            if neighbour not in index:
                visit(neighbour)
                low[node] = min(low[node], low[neighbour])
            elif neighbour in stack:
                low[node] = min(low[node], index[neighbour])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_at_import_time():
    modules = _modules()
    graph = {name: _imported(ast.parse(path.read_text()), True) & modules.keys() - {name}
             for name, path in modules.items()}
    assert _circles(graph) == []


def test_each_layer_imports_only_the_layers_below_it():
    modules = _modules()
    upward = sorted((name, imported) for name, path in modules.items()
                    for imported in _imported(ast.parse(path.read_text()), False) & modules.keys()
                    if _layer(imported) > _layer(name))
    assert upward == []


def test_a_circle_is_found():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
