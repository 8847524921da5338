"""The plain model types: which fill-in-the-middle tokens a tokenizer has."""

from __future__ import annotations

import pytest

from kvcomplete.completion.model.spec import FimTokens, file_separator, fim_tokens


class Vocabulary:
    def __init__(self, names: list[str]) -> None:
        self.ids = {name: 100 + index for index, name in enumerate(names)}

    def get_vocab(self) -> dict[str, int]:
        return self.ids


@pytest.mark.parametrize("prefix, suffix, middle", [
    ("<fim_prefix>", "<fim_suffix>", "<fim_middle>"),  # StarCoder2
    ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),  # Qwen2.5-Coder
    ("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"),  # DeepSeek-Coder
])
def test_each_familys_fim_tokens_are_found_in_prefix_suffix_middle_order(prefix, suffix, middle):
    tokenizer = Vocabulary(["<unk>", middle, suffix, prefix])
    assert fim_tokens(tokenizer) == FimTokens(prefix=103, suffix=102, middle=101)


def test_a_tokenizer_without_all_three_has_none():
    assert fim_tokens(Vocabulary(["<|fim_prefix|>", "<|fim_suffix|>"])) is None


@pytest.mark.parametrize("family, name", [("qwen2", "<|file_sep|>"), ("starcoder2", "<file_sep>")])
def test_a_multi_file_familys_separator_is_found(family, name):
    assert file_separator(Vocabulary(["<unk>", name]), family) == 101
    assert file_separator(Vocabulary(["<unk>", "<|fim_prefix|>"]), family) is None


def test_a_separator_in_the_vocabulary_of_a_family_not_trained_on_it_is_not_used():
    assert file_separator(Vocabulary(["<unk>", "<file_sep>"]), "llama") is None  # SmolLM2's vocabulary has it
