"""Settings from the client: ``initializationOptions`` and ``workspace/didChangeConfiguration``.

Both carry camelCase options (completion.config.LSP_KEYS), either bare or under a ``kvcomplete`` section.
They apply over the command line's settings one key at a time: an unknown key or a bad value is reported
and skipped, never fatal. JSON is untyped, so each value's type is checked against the Settings field.
"""

from __future__ import annotations

import typing

from kvcomplete.completion.config import LSP_KEYS, Settings, settings_from_lsp

SECTION = "kvcomplete"
# A pickled checkpoint can run code: only the command line may allow it, never an editor or workspace file.
COMMAND_LINE_ONLY = {"allowPickle"}
_FIELD_TYPES = typing.get_type_hints(Settings)


def options_in(value: object) -> dict | None:
    """The kvcomplete options in an initializationOptions or configuration value (None if there are none)."""
    if not isinstance(value, dict):
        return None
    section = value.get(SECTION)
    return section if isinstance(section, dict) else value


def _type_problem(key: str, value: object) -> str | None:
    expected = _FIELD_TYPES[LSP_KEYS[key]]
    if isinstance(value, bool) != (expected is bool) or not isinstance(value, expected):
        return f"setting {key} has the wrong type ({type(value).__name__}): ignored"
    return None


def apply_options(base: Settings, options: dict) -> tuple[Settings, list[str]]:
    """``options`` over ``base``; also returns one message per key that was not applied."""
    settings, problems = base, []
    for key, value in options.items():
        if key not in LSP_KEYS:
            problems.append(f"unknown setting {key!r}: ignored")
        elif key in COMMAND_LINE_ONLY:
            problems.append(f"setting {key} can only be given on the command line: ignored")
        elif (problem := _type_problem(key, value)) is not None:
            problems.append(problem)
        else:
            try:
                settings, _ = settings_from_lsp({key: value}, settings)
            except ValueError as error:
                problems.append(f"{error}: setting {key} ignored")
    return settings, problems
