"""Context selection on a small multi-file project: imported definitions, recent and similar chunks, the budget,
determinism."""

from __future__ import annotations

from pathlib import Path

from kvcomplete.completion.prompt.context import CHUNK_LINES, Current, select_context
from kvcomplete.completion.prompt.files import list_files

GEOMETRY = '''"""Shapes."""

import math


def area(radius: float) -> float:
    """The area of a circle."""
    return math.pi * radius ** 2


class Shape:
    """A named shape."""

    sides: int = 0

    def __init__(self, name: str) -> None:
        self.name = name

    def describe(self) -> str:
        return f"{self.name} with {self.sides} sides"


def _private():
    pass
'''
UNITS = "METRES_PER_FOOT = 0.3048\n\n\ndef feet(metres):\n    return metres / METRES_PER_FOOT\n"
PLOTTING = "def plot_histogram(values, bins):\n    counts = histogram_counts(values, bins)\n    return counts\n"
UNRELATED = "def tokenize_sentence(sentence):\n    return sentence.split()\n"
APP = ("from pkg.geometry import area, Shape\nfrom .units import feet\nimport pkg.plotting\n\n\n"
       "def report(r):\n    return area(")

AREA = '''def area(radius: float) -> float:
    """The area of a circle."""
    ...'''
SHAPE = '''class Shape:
    """A named shape."""
    sides: int = 0
    def __init__(self, name: str) -> None: ...
    def describe(self) -> str: ...'''
FEET = '''def feet(metres):
    ...'''
PLOTTING_OUTLINE = "def plot_histogram(values, bins): ..."


def make_project(root: Path) -> Path:
    files = {"pkg/__init__.py": "", "pkg/geometry.py": GEOMETRY, "pkg/plotting.py": PLOTTING,
             "pkg/app/__init__.py": "", "pkg/app/units.py": UNITS, "pkg/app/main.py": APP,
             "lib/words.py": UNRELATED}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def select(root: Path, text: str = APP, recent=(), budget: int = 10_000):
    current = Current(root / "pkg/app/main.py", text, "python", len(text))
    return select_context(current, [root], list(list_files(root)), [(path, path.read_text()) for path in recent],
                          budget, len)


def test_definitions_of_imported_names_come_first_and_nearest_the_document(tmp_path):
    root = make_project(tmp_path)
    segment = select(root)
    # area is used at the cursor: it comes last, next to the document; then import order.
    expected = [("pkg/plotting.py", PLOTTING_OUTLINE), ("pkg/app/units.py", FEET), ("pkg/geometry.py", SHAPE),
                ("pkg/geometry.py", AREA)]
    definitions = [s for s in segment.snippets if s.kind in ("definition", "outline")]
    assert [(s.path.relative_to(root).as_posix(), s.text) for s in definitions] == expected
    assert segment.blocks[-len(expected):] == tuple(f"# {path}\n{text}\n\n" for path, text in expected)
    assert segment.text == "".join(segment.blocks)


def test_a_module_imported_whole_gives_the_definitions_of_the_attributes_used(tmp_path):
    root = make_project(tmp_path)
    text = "import pkg.plotting\nfrom pkg import geometry as geo\n\nx = geo.area(2) + pkg.plotting.plot_histogram("
    definitions = [(s.path.relative_to(root).as_posix(), s.kind, s.text) for s in select(root, text).snippets
                   if s.kind != "similar"]
    assert definitions == [("pkg/geometry.py", "definition", AREA),
                           ("pkg/plotting.py", "definition", PLOTTING_OUTLINE.replace(" ...", "\n    ..."))]


def test_the_budget_keeps_the_most_important_snippets(tmp_path):
    root = make_project(tmp_path)
    area_block = f"# pkg/geometry.py\n{AREA}\n\n"
    assert select(root, budget=len(area_block)).text == area_block
    feet_block = f"# pkg/app/units.py\n{FEET}\n\n"  # what does not fit is left out, later ones may fit
    assert select(root, budget=len(area_block) - 1).text == feet_block


def test_recent_and_similar_chunks(tmp_path):
    root = make_project(tmp_path)
    text = "from pkg.plotting import plot_histogram\n\nvalues = load()\ncounts = histogram_counts(values, "
    segment = select(root, text, recent=[root / "lib/words.py"])
    kinds = {(s.kind, s.path.relative_to(root).as_posix()) for s in segment.snippets}
    assert ("recent", "lib/words.py") in kinds  # recent files get a chunk even when unlike the cursor's text
    assert ("similar", "pkg/plotting.py") in kinds and ("similar", "lib/words.py") not in kinds
    similar = next(s for s in segment.snippets if s.kind == "similar")
    assert similar.path == root / "pkg/plotting.py" and similar.text == PLOTTING.strip("\n") and similar.line == 0


def test_a_recent_document_is_read_as_the_editor_has_it(tmp_path):
    root = make_project(tmp_path)
    current = Current(root / "pkg/app/main.py", "x = 1\n", "python", 6)
    unsaved = "def tokenize_words(sentence):\n    return sentence.split()\n"
    segment = select_context(current, [root], list(list_files(root)), [(root / "lib/words.py", unsaved)], 1000, len)
    assert segment.text == f"# lib/words.py\n{unsaved}\n"


def test_chunks_are_windows_of_lines(tmp_path):
    root = make_project(tmp_path)
    long_file = root / "pkg" / "long.py"
    lines = [f"histogram_value_{n} = {n}" for n in range(CHUNK_LINES * 2)]
    long_file.write_text("\n".join(lines) + "\n")
    text = "import pkg\n\nx = histogram_value_30 + histogram_value_31 + histogram_value_32"
    similar = [s for s in select(root, text).snippets if s.kind == "similar" and s.path == long_file]
    assert [(s.line, s.text) for s in similar][-1] == (CHUNK_LINES, "\n".join(lines[CHUNK_LINES:]))


def test_selection_is_deterministic_and_empty_without_imports_or_overlap(tmp_path):
    root = make_project(tmp_path)
    assert select(root) == select(root)
    assert select(root, "x = 1\n").text == ""


def test_a_multi_file_format_renders_path_lines_and_ends_with_the_current_files(tmp_path):
    """For a model trained on file separators: each block is its path line and text (the separator token in
    front of it is the selector's), the current file's path line follows, and each separator costs a token."""
    root = make_project(tmp_path)
    current = Current(root / "pkg/app/main.py", APP, "python", len(APP))
    segment = select_context(current, [root], list(list_files(root)), [], 10_000, len, separated=True)
    assert segment.blocks[-1] == f"pkg/geometry.py\n{AREA}\n" and not any(b.startswith("#") for b in segment.blocks)
    assert segment.current == "pkg/app/main.py\n"
    area_block = f"pkg/geometry.py\n{AREA}\n"
    fits = len(segment.current) + 1 + len(area_block) + 1
    assert select_context(current, [root], list(list_files(root)), [], fits, len, separated=True).blocks[-1] == (
        area_block)
    assert select_context(current, [root], list(list_files(root)), [], fits - 1, len,
                          separated=True).blocks[-1:] != (area_block,)
