"""Shared fixtures: the default model's tokenizer, tiny random models of each rotary family, the default model, a
fake clock; and the guard that keeps subprocesses out of the fast suite."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from kvcomplete.completion.model.offline import stay_offline

stay_offline()  # as the entry points do, before anything imports transformers

import pytest
import torch

# Triton must see TRITON_INTERPRET before anything imports it (transformers may): without a GPU, the
# kernel tests run through the interpreter.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

from kvcomplete.completion.model import default_model

pytest_plugins = ["tests.tiny_models", "tests.fake_clock"]


SLOW_KINDS = ("e2e", "default_model")  # a subprocess (server, editor, CLI, git) or the real model: slow by nature


def pytest_collection_modifyitems(config, items):
    for item in items:
        if any(kind in item.keywords for kind in SLOW_KINDS):
            item.add_marker(pytest.mark.slow)
    if default_model.is_installed():
        return
    for item in items:
        if "default_model" in item.keywords:
            item.add_marker(pytest.mark.xfail(reason="default model not installed: run `make setup`", run=False,
                                              strict=True))


@pytest.fixture(autouse=True)
def _no_subprocess_unless_slow(request, monkeypatch) -> None:
    """``make test-fast`` promises no server, editor or other subprocess: a test that starts one must be marked
    ``e2e`` (or ``slow``), which keeps it out of the fast selection. ``subprocess.Popen`` is what
    ``subprocess.run``, asyncio's ``create_subprocess_exec`` and the LSP clients all start processes through."""
    if "slow" in request.keywords:
        return

    def refuse(self, args, *rest, **options) -> None:
        pytest.fail(f"starts a subprocess ({args!r}) but is not marked e2e", pytrace=False)

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)


@pytest.fixture(scope="session")
def default_model_dir() -> Path:
    return default_model.default_model_dir()  # installed by `make setup`; tests never download


@pytest.fixture(scope="session")
def tokenizer(default_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(default_model_dir)


@pytest.fixture(scope="session")
def vocab(tokenizer):
    from kvcomplete.completion.text.vocab import Vocabulary

    return Vocabulary(tokenizer)


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)
