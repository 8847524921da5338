"""Settings from the client: ``initializationOptions`` and ``workspace/didChangeConfiguration``.

Both carry camelCase options (the LSP keys that completion/config.py declares), either bare or under a
``kvcomplete`` section. They apply over the command line's settings one key at a time: an unknown key or a bad
value is reported and skipped, never fatal. JSON is untyped, so each value's type is checked against the setting's.
"""

from __future__ import annotations

from kvcomplete.completion.config import BY_LSP_KEY, Settings, settings_from_lsp

SECTION = "kvcomplete"


def options_in(value: object) -> dict | None:
    """The kvcomplete options in an initializationOptions or configuration value (None if there are none)."""
    if not isinstance(value, dict):
        return None
    section = value.get(SECTION)
    return section if isinstance(section, dict) else value


def _type_problem(key: str, value: object) -> str | None:
    expected = BY_LSP_KEY[key].type
    expected = (int, float) if expected is float else expected  # JSON writes 2.0 as 2
    if isinstance(value, bool) != (expected is bool) or not isinstance(value, expected):
        return f"setting {key} has the wrong type ({type(value).__name__}): ignored"
    return None


def apply_options(base: Settings, options: dict) -> tuple[Settings, list[str]]:
    """``options`` over ``base``; also returns one message per key that was not applied."""
    settings, problems = base, []
    for key, value in options.items():
        if key not in BY_LSP_KEY:
            problems.append(f"unknown setting {key!r}: ignored")
        elif BY_LSP_KEY[key].command_line_only:  # e.g. a pickled checkpoint can run code: never from a workspace
            problems.append(f"setting {key} can only be given on the command line: ignored")
        elif (problem := _type_problem(key, value)) is not None:
            problems.append(problem)
        else:
            try:
                settings, _ = settings_from_lsp({key: value}, settings)
            except ValueError as error:
                problems.append(f"{error}: setting {key} ignored")
    return settings, problems
