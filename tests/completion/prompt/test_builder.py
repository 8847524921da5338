"""Prompts start as the model saw text start in training: with the tokens its tokenizer puts first."""

from __future__ import annotations

from kvcomplete.completion.prompt.builder import leading_tokens


class MarkingTokenizer:
    """Puts BOS (1) before the text and EOS (2) after it, as Gemma's and Llama 2's tokenizers can."""

    def __call__(self, text: str, add_special_tokens: bool = True) -> dict:
        ids = [ord(ch) for ch in text]
        return {"input_ids": [1, *ids, 2] if add_special_tokens else ids}


def test_the_tokens_before_the_text_lead_and_those_after_do_not():
    assert leading_tokens(MarkingTokenizer()) == [1]


def test_a_tokenizer_that_adds_nothing_leads_with_nothing(tokenizer):
    assert leading_tokens(tokenizer) == []  # the default model's (SmolLM2): prompts as before
