"""The real Gemma 3 270M Q4_K_M (`make gemma`): sliding-window layers and two rotary bases, on real code longer
than the window. Skipped, with the target to run, where the file is not fetched."""

from __future__ import annotations

import re

import pytest
import torch

from kvcomplete.bench.sources import held_out_modules, read_module
from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine
from kvcomplete.completion.model import gemma_gguf
from kvcomplete.completion.model.gguf_weights import block_library
from kvcomplete.completion.model.loading import load
from kvcomplete.completion.model.runner import ModelRunner

pytestmark = [pytest.mark.slow, pytest.mark.skipif(gemma_gguf.installed() is None, reason=gemma_gguf.missing_message())]
CONTEXT = 700  # tokens: past the 512-token window of the local layers


@torch.inference_mode()
def test_greedy_past_the_window_equals_transformers_generate():
    """transformers builds its own sliding-window masks in ``generate``; the runner builds its own."""
    loaded = load(Settings(model=str(gemma_gguf.installed()), device="cpu", dtype="float32", weights="fp32"))
    assert loaded.config.sliding_window < CONTEXT
    ids = loaded.tokenizer(read_module(held_out_modules(every=7, min_chars=20000)[0]))["input_ids"][:CONTEXT]
    runner = ModelRunner(loaded, "torch")
    store = runner.new_store(CONTEXT + 16)
    logits, ours = runner.encode(store, ids, 0), []
    for at in range(CONTEXT, CONTEXT + 12):
        ours.append(int(logits[-1].argmax()))
        logits = runner.forward(store, ours[-1:], torch.tensor([at]), at, at, torch.ones(1, 1, dtype=torch.bool))
    prompt = torch.tensor([ids])
    generated = loaded.model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=12,
                                      min_new_tokens=12, do_sample=False)
    assert ours == generated[0, CONTEXT:].tolist()


def test_kept_in_its_bits_and_completing():
    loaded = load(Settings(model=str(gemma_gguf.installed()), device="cpu"))
    # every layer from its blocks where the block kernel is built, else Q4_K as int4 and the others as int8
    formats = ("Q4_K", "Q5_0", "Q8_0") if block_library() is not None else ("int4", "int8")
    assert all(name in loaded.weights for name in formats), loaded.weights
    runs = loaded.rotary.layer_runs
    assert len(runs) == 6  # five local layers, then a global one, three times
    engine = Engine(Settings(device="cpu", max_tokens=12, suggestions=2), loaded=loaded)
    source = "def fibonacci(n):\n    if n < 2:\n        return n\n    return "
    engine.open("file:///fib.py", source)
    suggestions = engine.complete("file:///fib.py", len(source)).suggestions
    assert suggestions and re.search(r"fibonacci\(n ?- ?1\)", suggestions[0].text), suggestions  # spacing varies
