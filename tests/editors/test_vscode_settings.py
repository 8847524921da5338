"""The VS Code extension's settings (editors/vscode/package.json) are the server's, as completion/config.py
declares them: every setting an editor may set, under its LSP key, with the same default, values and minimum."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kvcomplete.completion.config import SETTINGS

EXTENSION = Path(__file__).parents[2] / "editors" / "vscode"
EXTENSION_ONLY = {"serverPath", "debounceMs"}  # the extension's own: which executable it starts, how long it waits
EDITOR_SETTINGS = {declared.lsp: declared for declared in SETTINGS if not declared.command_line_only}
JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", str | None: "string"}


def contributed() -> dict[str, dict]:
    """package.json's configuration properties, by key without the ``kvcomplete.`` prefix."""
    manifest = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    properties = manifest["contributes"]["configuration"]["properties"]
    return {key.removeprefix("kvcomplete."): spec for key, spec in properties.items()}


def test_the_extension_offers_every_editor_setting_and_no_other():
    assert set(contributed()) - EXTENSION_ONLY == set(EDITOR_SETTINGS)


def test_the_extension_sends_every_editor_setting():
    """settings.ts's SERVER_KEYS: the options the extension forwards to the server."""
    source = (EXTENSION / "src" / "settings.ts").read_text(encoding="utf-8")
    keys = re.search(r"SERVER_KEYS = \[(.*?)\]", source, re.DOTALL).group(1)
    assert set(re.findall(r"'(\w+)'", keys)) == set(EDITOR_SETTINGS)


@pytest.mark.parametrize("key", sorted(EDITOR_SETTINGS))
def test_a_setting_has_the_servers_type_default_values_and_minimum(key):
    declared, offered = EDITOR_SETTINGS[key], contributed()[key]
    assert offered["type"] == JSON_TYPES[declared.type]
    # The settings UI cannot hold null: the extension sends an empty string as null (settings.ts).
    assert offered["default"] == ("" if declared.default is None else declared.default)
    assert set(offered.get("enum", ())) == set(declared.choices)
    assert offered.get("minimum") == declared.minimum
