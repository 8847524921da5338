"""Settings: one declaration per setting, its checks, which changes reload the model, the generated docs table."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from kvcomplete.completion.config import BY_LSP_KEY, SETTINGS, Settings, settings_from_lsp, with_docs_table

BASE = Settings()
DOCS = Path(__file__).parents[2] / "docs" / "configuration.md"
# The settings that name the model itself (written out here, not read back from config): a change loads another.
MODEL_SETTINGS = {"model", "device", "dtype", "weights", "compile"}


def other_value(name: str) -> object:
    """A valid value of setting ``name`` that differs from its default."""
    declared = next(declared for declared in SETTINGS if declared.name == name)
    default = declared.default
    if declared.choices:
        return next(choice for choice in declared.choices if choice != default)
    if isinstance(default, bool):
        return not default
    if isinstance(default, str):
        return default + "/other"
    return "/models/other" if default is None else default + 1


@pytest.mark.parametrize("name", [field.name for field in dataclasses.fields(Settings)])
def test_only_a_change_of_a_model_setting_reloads(name):
    assert BASE.replace(**{name: other_value(name)}).reloads_model(BASE) == (name in MODEL_SETTINGS)


def test_compile_comes_from_its_lsp_key_and_reloads():
    settings, unknown = settings_from_lsp({"compile": "on"})
    assert settings.compile == "on" and not unknown
    assert settings.reloads_model(BASE)


@pytest.mark.parametrize("key, value, message", [
    ("device", "tpu", "device must be one of auto, cpu, cuda, not 'tpu'"),
    ("fimLayout", "fim", "fimLayout must be one of auto, ltr, psm, spm, not 'fim'"),
    ("logLevel", "trace", "logLevel must be one of error, warning, info, debug, not 'trace'"),
    ("maxTokens", 0, "maxTokens must be at least 1, not 0"),
    ("contextTokens", 255, "contextTokens must be at least 256, not 255"),
    ("staleBudget", -1, "staleBudget must be at least 0, not -1"),
])
def test_a_bad_value_is_refused_with_the_name_the_editor_uses(key, value, message):
    with pytest.raises(ValueError, match=message):
        settings_from_lsp({key: value})


def test_the_limits_themselves_are_accepted():
    settings, _ = settings_from_lsp({"contextTokens": 256, "staleBudget": 0, "latencyBudgetMs": 0, "suggestions": 1})
    assert (settings.context_tokens, settings.stale_budget, settings.latency_budget_ms) == (256, 0, 0)


def test_every_setting_is_declared_once_with_what_the_cli_and_the_docs_need():
    assert [declared.name for declared in SETTINGS] == [field.name for field in dataclasses.fields(Settings)]
    assert len(BY_LSP_KEY) == len(SETTINGS)  # no two settings share an LSP key
    for declared in SETTINGS:
        assert declared.doc and "|" not in declared.doc, declared.name  # a cell of a Markdown table
        assert (declared.flag is None) == (declared.help is None), declared.name
        assert not declared.commands or declared.flag is not None, declared.name
        if declared.type is bool and declared.flag is not None:  # the flag turns the default around
            assert declared.flag.startswith("--no-") == declared.default, declared.name


def test_the_docs_table_is_up_to_date():
    """KVCOMPLETE_UPDATE_DOCS=1 writes the table (from completion/config.py) into docs/configuration.md."""
    text = DOCS.read_text(encoding="utf-8")
    updated = with_docs_table(text)
    if os.environ.get("KVCOMPLETE_UPDATE_DOCS") == "1":
        DOCS.write_text(updated, encoding="utf-8")
    assert text == updated, ("docs/configuration.md's settings table is out of date: run "
                             "KVCOMPLETE_UPDATE_DOCS=1 .venv/bin/pytest tests/completion/test_config.py")


def test_the_docs_table_has_one_row_per_setting_as_declared():
    table = with_docs_table(DOCS.read_text(encoding="utf-8"))
    assert "| `maxTokens` | `complete --max-tokens`, `demo --max-tokens` | `48` (≥ 1) | " in table
    assert "| `kvBudgetMB` | — | `2048` (≥ 1) | " in table
    assert "| `model` | `--model` | `null` | " in table and "| `pie` | `--no-pie` | `true` | " in table
    assert "Changing `model`, `device`, `dtype`, `weights` or `compile` reloads the model" in table
