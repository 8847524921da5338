"""Prompt layouts: the choice of layout (how prompts change: tests/completion/cache/test_token_diff.py)."""

from __future__ import annotations

import pytest

from kvcomplete.completion.model.spec import FimTokens
from kvcomplete.completion.prompt.layout import Layout, choose_layout

FIM = FimTokens(prefix=1, suffix=2, middle=3)


def test_layout_choice():
    assert choose_layout("auto", None, "llama") is Layout.LEFT_TO_RIGHT
    assert choose_layout("auto", FIM, "starcoder2") is Layout.SPM
    assert choose_layout("auto", FIM, "qwen2") is Layout.PSM
    assert choose_layout("ltr", FIM, "qwen2") is Layout.LEFT_TO_RIGHT
    assert choose_layout("psm", FIM, "starcoder2") is Layout.PSM
    with pytest.raises(ValueError, match="FIM tokens"):
        choose_layout("spm", None, "llama")
