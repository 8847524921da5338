"""Sliding-window layers (Gemma 3's local layers) see only their window in every kind of forward: the runner's
logits equal transformers' own forward, which builds its sliding-window masks itself."""

from __future__ import annotations

import torch
import transformers

from kvcomplete.completion.model import attention, loading
from kvcomplete.completion.model.runner import ModelRunner
from kvcomplete.completion.model.spec import LoadedModel

WINDOW = 4
CONFIG = dict(vocab_size=97, hidden_size=64, intermediate_size=96, num_attention_heads=4, num_key_value_heads=2,
              head_dim=16, num_hidden_layers=3, sliding_window=WINDOW,
              layer_types=["sliding_attention", "full_attention", "sliding_attention"])


def models() -> tuple[LoadedModel, torch.nn.Module]:
    """The runner's model and transformers' eager reference, with the same weights."""
    torch.manual_seed(3)  # each model takes its own config: from_config records the attention in it
    ours = transformers.AutoModelForCausalLM.from_config(transformers.Gemma3TextConfig(**CONFIG),
                                                         attn_implementation=attention.register()).eval()
    reference = transformers.AutoModelForCausalLM.from_config(transformers.Gemma3TextConfig(**CONFIG),
                                                              attn_implementation="sdpa").eval()
    reference.load_state_dict(ours.state_dict())
    loaded = LoadedModel(model=ours, tokenizer=None, rotary=loading.rotary_spec(ours, "default"), name="gemma3",
                         device=torch.device("cpu"), dtype=torch.float32, load_seconds=0.0)
    return loaded, reference


@torch.inference_mode()
def test_encodes_and_steps_see_the_window_as_transformers_does():
    """A document of 16 tokens with the cursor after 12: the suggestion's tokens go to scratch slots 16, 17, ...
    at positions 12, 13, ..., and the 4 document slots after the cursor are hidden."""
    loaded, reference = models()
    document = torch.randint(0, 97, (16,), generator=torch.Generator().manual_seed(0)).tolist()
    suggestion = torch.randint(0, 97, (8,), generator=torch.Generator().manual_seed(1)).tolist()
    expected = reference(torch.tensor([document[:12] + suggestion])).logits[0]
    runner = ModelRunner(loaded, "torch")
    store = runner.new_store(32)
    encoded = runner.encode(store, document, 0)
    plain = reference(torch.tensor([document])).logits[0, -1]
    torch.testing.assert_close(encoded[-1], plain, atol=1e-4, rtol=1e-4)
    for step, token in enumerate(suggestion):
        visible = torch.zeros(1, 4 + step + 1, dtype=torch.bool)
        visible[0, 4:] = True  # the hidden slots 12..15, then the suggestion so far
        logits = runner.forward(store, [token], torch.tensor([12 + step]), 16 + step, 12, visible)
        torch.testing.assert_close(logits[-1], expected[12 + step], atol=1e-4, rtol=1e-4)


@torch.inference_mode()
def test_a_branch_sees_the_window_by_positions_not_slots():
    """Two sibling drafts at the same position in consecutive slots: the second must not lose a key of the
    window because its slot is one further on."""
    loaded, reference = models()
    tokens = torch.randint(0, 97, (14,), generator=torch.Generator().manual_seed(1)).tolist()
    runner = ModelRunner(loaded, "torch")
    store = runner.new_store(32)
    runner.encode(store, tokens[:12], 0)
    siblings = [tokens[12], tokens[13]]
    visible = torch.eye(2, dtype=torch.bool)  # each sees the document and itself only
    logits = runner.forward(store, siblings, torch.tensor([12, 12]), 12, 12, visible)
    for row, token in enumerate(siblings):
        expected = reference(torch.tensor([tokens[:12] + [token]])).logits[0, -1]
        torch.testing.assert_close(logits[row], expected, atol=1e-4, rtol=1e-4)
