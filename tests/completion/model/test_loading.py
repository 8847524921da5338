"""Model loading refuses what it cannot use, with a message that says what to do."""

from __future__ import annotations

import pytest
import torch

from kvcomplete.completion.config import Settings
from kvcomplete.completion.model.loading import load
from kvcomplete.completion.model.precision import resolve_dtype
from kvcomplete.completion.model.spec import ModelError


def test_missing_folder(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        load(Settings(model=str(tmp_path / "nothing")))


def test_not_cached_hub_id_is_not_downloaded():
    with pytest.raises(ModelError, match="never downloads"):
        load(Settings(model="someone/not-a-cached-model"))


def test_non_rotary_model_is_refused(tmp_path, tokenizer):
    import transformers

    config = transformers.GPT2Config(vocab_size=64, n_embd=32, n_layer=1, n_head=2)
    transformers.GPT2LMHeadModel(config).save_pretrained(tmp_path)
    with pytest.raises(ModelError, match="no rotary position embeddings"):
        load(Settings(model=str(tmp_path)))


def test_a_model_with_rotary_frequencies_per_layer_type_is_refused_saying_why(tmp_path, tokenizer):
    """Gemma 3: local layers (sliding window, base 10k) and global ones (base 1M) rotate differently."""
    import transformers

    config = transformers.Gemma3TextConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_attention_heads=2,
                                           num_key_value_heads=1, head_dim=16, num_hidden_layers=2, sliding_window=16)
    transformers.Gemma3ForCausalLM(config).save_pretrained(tmp_path)
    with pytest.raises(ModelError, match="gemma3_text: its layers use different rotary frequencies") as refused:
        load(Settings(model=str(tmp_path)))
    for part in ("sliding_attention: base 10000", "full_attention: base 1000000", "sliding-window attention (16 tokens)"):
        assert part in str(refused.value)


def test_length_dependent_rotary_needs_pie_off(save_tiny_model, tmp_path, tokenizer):
    folder = save_tiny_model("llama", tmp_path, tokenizer,
                             rope_parameters={"rope_type": "dynamic", "factor": 2.0, "rope_theta": 10000.0})
    with pytest.raises(ModelError, match="PIE off"):
        load(Settings(model=str(folder)))
    assert load(Settings(model=str(folder), pie=False)).rotary.shiftable is False


def test_pickled_weights_need_explicit_permission(save_tiny_model, tmp_path, tokenizer):
    import transformers

    folder = save_tiny_model("llama", tmp_path / "safe", tokenizer)
    model = transformers.AutoModelForCausalLM.from_pretrained(folder)
    pickled = tmp_path / "pickled"
    model.config.save_pretrained(pickled)
    tokenizer.save_pretrained(pickled)
    torch.save(model.state_dict(), pickled / "pytorch_model.bin")
    with pytest.raises(ModelError, match="--allow-pickle"):
        load(Settings(model=str(tmp_path / "pickled")))
    loaded = load(Settings(model=str(tmp_path / "pickled"), allow_pickle=True, dtype="float32", weights="fp32"))
    weights = loaded.model.state_dict()  # the pickled weights are the ones loaded, not a fresh initialisation
    assert sorted(weights) == sorted(model.state_dict())
    assert all(torch.equal(weights[name], tensor) for name, tensor in model.state_dict().items())


@pytest.mark.parametrize("family", ["llama", "gpt_neox", "phi"])
def test_rotary_spec_matches_the_model(save_tiny_model, tmp_path, tokenizer, family):
    loaded = load(Settings(model=str(save_tiny_model(family, tmp_path, tokenizer)), device="cpu"))
    head_dim = loaded.config.hidden_size // loaded.config.num_attention_heads
    expected = {"llama": head_dim, "gpt_neox": head_dim // 4, "phi": head_dim // 2}[family]
    assert loaded.rotary.rotary_dim == expected
    info = loaded.info()
    assert (loaded.dtype, info["dtype_reason"]) == resolve_dtype("auto", torch.device("cpu"))
    assert info["device"] == "cpu" and info["dtype"] == str(loaded.dtype).removeprefix("torch.")
