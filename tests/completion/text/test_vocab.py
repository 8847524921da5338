"""Every token's exact bytes: added tokens are document text unless marked special (Gemma adds thousands)."""

from __future__ import annotations

import copy

from tokenizers import AddedToken

from kvcomplete.completion.text.vocab import Vocabulary


def test_added_tokens_are_text_unless_special(tokenizer):
    extended = copy.deepcopy(tokenizer)
    extended.add_tokens([AddedToken("\n\n\n\n", special=False, normalized=False)])
    extended.add_tokens([AddedToken("<|marker|>", special=True)], special_tokens=True)
    vocab = Vocabulary(extended)
    ids = vocab.encode("x = 1\n\n\n\ny = 2")
    newlines, marker = extended.convert_tokens_to_ids(["\n\n\n\n", "<|marker|>"])
    assert newlines in ids and vocab.to_bytes(ids) == b"x = 1\n\n\n\ny = 2"
    assert vocab.bytes_of[newlines] == b"\n\n\n\n" and newlines not in vocab.special_ids
    assert vocab.bytes_of[marker] == b"" and marker in vocab.special_ids
