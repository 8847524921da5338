"""A GGUF's config and tokenizer are converted once, and again only when the file changes."""

from __future__ import annotations

import os
import shutil

import pytest

from kvcomplete.completion.model import default_model
from kvcomplete.completion.model.gguf_metadata import metadata_folder

pytestmark = pytest.mark.default_model


def test_the_conversion_is_kept_and_keyed_by_the_file(tmp_path, monkeypatch):
    gguf = tmp_path / "model.gguf"
    shutil.copyfile(default_model.default_gguf_path(), gguf)
    monkeypatch.setenv("KVCOMPLETE_HOME", str(tmp_path / "home"))
    folder = metadata_folder(gguf)
    assert (folder / "config.json").is_file() and (folder / "tokenizer.json").is_file()
    assert folder.is_relative_to(tmp_path / "home")
    (folder / "config.json").touch()
    stamp = (folder / "config.json").stat().st_mtime_ns
    assert metadata_folder(gguf) == folder and (folder / "config.json").stat().st_mtime_ns == stamp, "not redone"
    os.utime(gguf, ns=(0, 0))  # the file changed: its conversion is redone, elsewhere
    assert metadata_folder(gguf) != folder
