"""Tiny random models of each rotary family, saved as real model folders with the default tokenizer."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
import torch

VOCAB = 49152  # the default model's tokenizer

# Small shapes that still exercise GQA, partial rotary and each family's attention code.
FAMILY_CONFIGS = {
    "llama": ("LlamaConfig", dict(hidden_size=64, intermediate_size=128, num_attention_heads=4,
                                  num_key_value_heads=2, num_hidden_layers=2)),
    "qwen2": ("Qwen2Config", dict(hidden_size=64, intermediate_size=128, num_attention_heads=4,
                                  num_key_value_heads=2, num_hidden_layers=2)),
    "starcoder2": ("Starcoder2Config", dict(hidden_size=64, intermediate_size=128, num_attention_heads=4,
                                            num_key_value_heads=2, num_hidden_layers=2, use_bias=True)),
    "gpt_neox": ("GPTNeoXConfig", dict(hidden_size=64, intermediate_size=128, num_attention_heads=4,
                                       num_hidden_layers=2, rotary_pct=0.25)),
    "phi": ("PhiConfig", dict(hidden_size=64, intermediate_size=128, num_attention_heads=4,
                              num_hidden_layers=2, partial_rotary_factor=0.5)),
    # Gemma 3: local layers (a sliding window, rotary base 10k) around a global one (base 1M); a window short
    # enough that tests' documents cross it.
    "gemma3_text": ("Gemma3TextConfig", dict(hidden_size=64, intermediate_size=128, num_attention_heads=4,
                                             num_key_value_heads=2, head_dim=16, num_hidden_layers=3,
                                             sliding_window=8, layer_types=["sliding_attention", "full_attention",
                                                                            "sliding_attention"])),
}


def _save(family: str, folder: Path, tokenizer, **overrides) -> Path:
    """A tiny random model of ``family`` (its config's shape changed by ``overrides``) and ``tokenizer`` in
    ``folder``, seeded: the same arguments give the same weights."""
    import transformers

    class_name, shape = FAMILY_CONFIGS[family]
    config = getattr(transformers, class_name)(**{"vocab_size": VOCAB, "max_position_embeddings": 4096,
                                                  **shape, **overrides})
    torch.manual_seed(1234)
    model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def save_tiny_model() -> Callable[..., Path]:
    """``save_tiny_model(family, folder, tokenizer, **config overrides)`` → ``folder``, holding a tiny random model
    of ``family``: for a test that needs a shape of its own (the fixtures below share one folder per session)."""
    return _save


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tokenizer) -> Path:
    """A tiny random Llama (the family of the default model) with the real tokenizer."""
    return _save("llama", tmp_path_factory.mktemp("tiny-llama"), tokenizer)


@pytest.fixture(scope="session", params=sorted(FAMILY_CONFIGS))
def tiny_family_dir(request, tmp_path_factory, tokenizer) -> Path:
    """One tiny random model folder per rotary family."""
    return _save(request.param, tmp_path_factory.mktemp(f"tiny-{request.param}"), tokenizer)


FIM_NAMES = ("<fim_prefix>", "<fim_suffix>", "<fim_middle>")


@pytest.fixture(scope="session")
def tiny_fim_model_dir(tmp_path_factory, tokenizer) -> Path:
    """A tiny random StarCoder2 whose tokenizer has fill-in-the-middle tokens (the default's has none)."""
    import copy

    fim_tokenizer = copy.deepcopy(tokenizer)
    fim_tokenizer.add_special_tokens({"additional_special_tokens": list(FIM_NAMES)})
    return _save("starcoder2", tmp_path_factory.mktemp("tiny-fim"), fim_tokenizer, vocab_size=len(fim_tokenizer))
