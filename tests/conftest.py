"""Shared fixtures: the default model's tokenizer, tiny random models of each rotary family, the default model."""

from __future__ import annotations

import os
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

pytest_plugins = ["tests.tiny_models"]


SLOW_KINDS = ("e2e", "default_model")  # a server, an editor or the real model: slow by nature


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
