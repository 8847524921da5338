"""Settings: which changes reload the model."""

from __future__ import annotations

import dataclasses

import pytest

from kvcomplete.completion.config import RELOAD_FIELDS, Settings, settings_from_lsp

BASE = Settings()
# A valid value different from the default, for the settings with a list of values.
CHANGED = {"model": "/models/other", "device": "cpu", "dtype": "float32", "fim_layout": "ltr", "kernels": "torch",
           "log_level": "debug", "weights": "fp32", "compile": "on"}


@pytest.mark.parametrize("name", RELOAD_FIELDS)
def test_a_change_of_the_model_device_or_dtype_reloads(name):
    assert BASE.replace(**{name: CHANGED[name]}).reloads_model(BASE)


def test_every_other_setting_applies_in_place():
    for field in dataclasses.fields(Settings):
        if field.name in RELOAD_FIELDS:
            continue
        value = getattr(BASE, field.name)
        if isinstance(value, bool):
            other = not value
        elif isinstance(value, int):
            other = value + 1
        elif field.name in CHANGED:
            other = CHANGED[field.name]
        else:
            continue  # a newer setting with a list of values: add it to CHANGED
        assert not BASE.replace(**{field.name: other}).reloads_model(BASE), field.name


def test_compile_comes_from_its_lsp_key_and_reloads():
    settings, unknown = settings_from_lsp({"compile": "on"})
    assert settings.compile == "on" and not unknown
    assert settings.reloads_model(BASE)
