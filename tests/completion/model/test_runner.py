"""ModelRunner: the Triton tree-attention path gives the torch path's logits and K/V; the ``kernels`` setting.

The models are tiny random ones built in memory (no tokenizer needed), so these tests also run compiled on a
GPU (kernels/gpu_check.sh); on CPU the Triton path runs through the interpreter (tests/conftest.py).
"""

from __future__ import annotations

import pytest
import torch
import transformers

from kvcomplete.completion.cache.kv_store import KVStore
from kvcomplete.completion.config import Settings, settings_from_lsp
from kvcomplete.completion.model import attention, loading
from kvcomplete.completion.model.runner import TREE_KERNEL_MAX_TOKENS, ModelRunner, cache_argument
from kvcomplete.completion.model.spec import LoadedModel, ModelError

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
VOCAB = 97
SHAPES = {  # GQA with full rotary; MHA with partial rotary and another attention module
    "llama": transformers.LlamaConfig(vocab_size=VOCAB, hidden_size=64, intermediate_size=96, num_attention_heads=4,
                                      num_key_value_heads=2, num_hidden_layers=2),
    "phi": transformers.PhiConfig(vocab_size=VOCAB, hidden_size=64, intermediate_size=96, num_attention_heads=4,
                                  num_hidden_layers=2, partial_rotary_factor=0.5),
}


def tiny_loaded(family: str) -> LoadedModel:
    torch.manual_seed(7)
    model = transformers.AutoModelForCausalLM.from_config(SHAPES[family], attn_implementation=attention.register())
    model.to(DEVICE).eval().requires_grad_(False)
    return LoadedModel(model=model, tokenizer=None, rotary=loading.rotary_spec(model, "default"), name=family,
                              device=DEVICE, dtype=torch.float32, load_seconds=0.0)


@pytest.fixture(scope="module", params=sorted(SHAPES))
def runners(request) -> tuple[ModelRunner, ModelRunner]:
    loaded = tiny_loaded(request.param)
    return ModelRunner(loaded, "torch"), ModelRunner(loaded, "triton")


def verification_steps(store: KVStore, runner: ModelRunner, tokens: list[int]) -> list[torch.Tensor]:
    """The engine's sequence on one store: encode a document, then, with the cursor inside it (the slots after
    it hidden), a shared re-run of the last prompt token, two branches' accepted tokens, and a draft tree."""
    logits = [runner.encode(store, tokens, 0)]
    prefix_len, scratch = 19, len(tokens)
    hidden = torch.zeros(1, scratch - prefix_len, dtype=torch.bool)
    logits.append(runner.forward(store, tokens[19:20], torch.tensor([19]), scratch, prefix_len,
                                 torch.cat((hidden, torch.ones(1, 1, dtype=torch.bool)), 1)))
    # branch a: two tokens (a chain), branch b: one token; all see the shared slot
    owners = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 0], [1, 0, 0, 1]], dtype=torch.bool)
    logits.append(runner.forward(store, [5, 6, 7], torch.tensor([20, 21, 20]), scratch + 1, prefix_len,
                                 torch.cat((hidden.expand(3, -1), owners), 1)))
    # the tree: a's next token with two children, b's next token; they see their branch's slots and ancestors
    sees_scratch = torch.tensor([[1, 1, 1, 0]] * 3 + [[1, 0, 0, 1]], dtype=torch.bool)
    tree = torch.tensor([[1, 0, 0, 0], [1, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 1]], dtype=torch.bool)
    logits.append(runner.forward(store, [8, 9, 10, 11], torch.tensor([22, 23, 23, 21]), scratch + 4, prefix_len,
                                 torch.cat((hidden.expand(4, -1), sees_scratch, tree), 1)))
    return logits


@pytest.mark.slow  # every forward kind through Triton's interpreter on CPU
def test_triton_path_gives_the_torch_paths_logits_and_cache(runners, count_tree_attention):
    torch_runner, triton_runner = runners
    assert (torch_runner.tree_kernel, triton_runner.tree_kernel) == (False, True)
    tokens = torch.randint(0, VOCAB, (40,), generator=torch.Generator().manual_seed(3)).tolist()
    stores = [runner.new_store(64) for runner in runners]
    expected = verification_steps(stores[0], torch_runner, tokens)
    calls = count_tree_attention()
    got = verification_steps(stores[1], triton_runner, tokens)
    assert len(calls) == 4 * 2, "every forward, every layer, through the tree kernel"
    for step, (want, have) in enumerate(zip(expected, got)):
        torch.testing.assert_close(have, want, atol=1e-4, rtol=1e-4, msg=lambda m: f"forward {step}: {m}")
    used = slice(0, 48)
    torch.testing.assert_close(stores[1].keys[:, :, used], stores[0].keys[:, :, used], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(stores[1].values[:, :, used], stores[0].values[:, :, used], atol=1e-5, rtol=1e-4)


def test_long_forwards_take_sdpa_even_with_triton(runners, count_tree_attention):
    """Encodes longer than TREE_KERNEL_MAX_TOKENS are prefills: the tree kernel is not called for them."""
    calls = count_tree_attention()
    triton_runner = runners[1]
    tokens = [3] * (TREE_KERNEL_MAX_TOKENS + 1)
    triton_runner.encode(triton_runner.new_store(256), tokens, 0)
    assert calls == []


def test_kernels_setting_resolves_per_device(runners, monkeypatch):
    torch_runner, triton_runner = runners
    assert torch_runner.kernel_backend == "reference" and triton_runner.kernel_backend == "triton"
    auto = ModelRunner(torch_runner.loaded, "auto")
    assert auto.tree_kernel == (DEVICE.type == "cuda") and auto.kernel_backend == ("triton" if auto.tree_kernel
                                                                                   else "reference")
    with pytest.raises(ValueError, match="kernels must be one of"):
        auto.use_kernels("cuda")
    if DEVICE.type == "cpu":  # without the interpreter, a CPU runner cannot run Triton: a clear error, no change
        monkeypatch.setattr("kvcomplete.kernels._triton.INTERPRET", False)
        with pytest.raises(ModelError, match="kernels='triton' cannot run on cpu"):
            torch_runner.use_kernels("triton")
        assert torch_runner.kernel_backend == "reference" and not torch_runner.tree_kernel


def test_kernels_is_an_lsp_setting():
    settings, unknown = settings_from_lsp({"kernels": "torch"})
    assert settings.kernels == "torch" and unknown == [] and Settings().kernels == "auto"
    with pytest.raises(ValueError, match="kernels must be one of auto, triton, torch"):
        settings_from_lsp({"kernels": "cuda"})


def test_cpu_forwards_run_on_the_thread_policys_count():
    """The runner sets torch's thread count to the policy's choice and feeds the forward's time back."""
    if DEVICE.type != "cpu":
        pytest.skip("threads are chosen on CPU only")
    from kvcomplete.completion.model.threads import ThreadPolicy

    before = torch.get_num_threads()
    runner = ModelRunner(tiny_loaded("llama"), "torch", threads=ThreadPolicy((1,)))
    try:
        runner.encode(runner.new_store(16), [1, 2, 3], 0)
        assert torch.get_num_threads() == 1
        assert list(runner.threads.table()) == [4] and runner.threads.table()[4][1] > 0
    finally:
        torch.set_num_threads(before)


def test_the_cache_goes_by_the_name_the_model_takes_it():
    """transformers 5.25 renamed a forward's ``past_key_values`` to ``cache`` (the old name warns on every
    forward); earlier releases know only ``past_key_values``."""

    def renamed(input_ids=None, cache=None, use_cache=None): ...

    def earlier(input_ids=None, past_key_values=None, use_cache=None): ...

    assert (cache_argument(renamed), cache_argument(earlier)) == ("cache", "past_key_values")
