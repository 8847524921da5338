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


def test_rotary_frequencies_per_layer_type_are_kept_per_layer(save_tiny_model, tmp_path, tokenizer):
    """Gemma 3: local layers (sliding window, base 10k) and global ones (base 1M) rotate differently; PIE
    re-rotates each run of layers with its own frequencies."""
    loaded = load(Settings(model=str(save_tiny_model("gemma3_text", tmp_path, tokenizer)), device="cpu"))
    runs = loaded.rotary.layer_runs
    assert [run for run, _ in runs] == [slice(0, 1), slice(1, 2), slice(2, 3)]
    bases = [1 / float(inv_freq[1]) ** (loaded.rotary.rotary_dim / 2) for _, inv_freq in runs]
    assert bases == pytest.approx([10_000, 1_000_000, 10_000], rel=1e-3)


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
