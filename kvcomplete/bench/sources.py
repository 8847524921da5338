"""Real code to measure on: the running interpreter's standard library, chosen by fixed, documented rules.

Nothing here is tuned on these files, so any module can serve as held-out code; the rules only make
every run pick the same ones (for one Python version): modules are ``Lib/*.py`` sorted by name.
"""

from __future__ import annotations

import json
from pathlib import Path

from kvcomplete.completion.text.vocab import Vocabulary

CHARS_PER_TOKEN = 8  # generous: Python source averages ~3-4 characters per token


def stdlib_modules() -> list[Path]:
    """The standard library's top-level modules, sorted by name."""
    return sorted(Path(json.__file__).parent.parent.glob("*.py"))


def read_module(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def stdlib_source(min_tokens: int, vocab: Vocabulary) -> str:
    """The first module (sorted by name) holding at least ``min_tokens`` tokens."""
    for path in stdlib_modules():
        text = read_module(path)
        if len(text) > 6 * min_tokens and len(vocab.encode(text[: CHARS_PER_TOKEN * min_tokens])) >= min_tokens:
            return text
    raise RuntimeError(f"no standard-library module holds {min_tokens} tokens")


def held_out_modules(every: int, min_chars: int) -> list[Path]:
    """Every ``every``-th module (sorted by name, from the first) of at least ``min_chars`` characters."""
    if every < 1:
        raise ValueError(f"every must be at least 1, not {every}")
    return [path for path in stdlib_modules()[::every] if path.stat().st_size >= min_chars]


def cut_to_tokens(text: str, tokens: int, vocab: Vocabulary) -> str:
    """The text of the first ``tokens`` tokens of ``text``."""
    return vocab.decode(vocab.encode(text[: CHARS_PER_TOKEN * tokens])[:tokens])


def is_code_line(line: str) -> bool:
    """An indented line of code worth predicting: not blank, not a comment or docstring, not trivially short."""
    stripped = line.strip()
    return line.startswith("    ") and len(stripped) > 8 and not stripped.startswith(("#", '"', "'"))


def indentation(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def next_line_cases(text: str, count: int) -> list[tuple[str, int, str]]:
    """(document without the target line, cursor after its indentation, the removed line) at ``count``
    evenly spaced code lines (``is_code_line``)."""
    lines = text.split("\n")
    eligible = [index for index, line in enumerate(lines) if is_code_line(line)]
    cases = []
    for index in eligible[:: max(1, len(eligible) // count)][:count]:
        before = "\n".join(lines[:index]) + "\n" + indentation(lines[index])
        cases.append((before + "\n" + "\n".join(lines[index + 1:]), len(before), lines[index].strip()))
    return cases
