"""int4 weights through the engine's layouts: the same suggestions as dense weights of the same values.

A tiny model's linear layers are snapped to 4-bit levels (each group of 32 inputs on 16 evenly spaced values,
as a Q4_1 GGUF's are), so int4 holds them exactly; run in fp32, the int4 kernel then computes what the
dense matmul does up to summation order. Through the engine that covers hidden document slots (the text
after the cursor), k branches in lockstep, draft trees, a PIE edit, GQA (llama) and partial rotary with
biases (phi).
"""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM

from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine
from kvcomplete.completion.model.head import HEAD_FORMAT
from kvcomplete.completion.model.weights import four_bit_levels, linear_layers
from kvcomplete.completion.text.mirror import TextChange

SOURCE = ("def area(radius):\n    return 3.14 * radius ** 2\n\n\n"
          "def circumference(radius):\n    return 2 * 3.14 * radius\n")
LAYERS = {"llama": 14, "phi": 12}  # linear layers but the LM head: 7 and 6 a layer, 2 layers
SHARPEN = 50.0  # times the LM head's (tied: also the embeddings') random weights


def save_four_bit_model(save_tiny_model, family: str, folder, tokenizer):
    save_tiny_model(family, folder, tokenizer)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    for _, _, layer in linear_layers(model):
        q, scale, low, _ = four_bit_levels(layer.weight)
        layer.weight.data = (low[..., None] + q * scale[..., None]).view(layer.weight.shape)
    # a random model's next-token distribution is nearly flat: near-ties that the kernels' different summation
    # orders (or a thread count chosen by timing) break either way. Sharper logits leave wide margins.
    model.get_output_embeddings().weight.data *= SHARPEN
    model.save_pretrained(folder)
    return folder


@pytest.mark.parametrize("family", sorted(LAYERS))
def test_int4_engine_suggests_what_dense_weights_do(save_tiny_model, tmp_path, tokenizer, family):
    folder = save_four_bit_model(save_tiny_model, family, tmp_path, tokenizer)
    settings = Settings(model=str(folder), device="cpu", dtype="float32", suggestions=2, max_tokens=12)
    int4, dense = Engine(settings.replace(weights="int4")), Engine(settings.replace(weights="fp32"))
    assert int4.loaded.info()["weights"] == f"int4 x{LAYERS[family]}, {HEAD_FORMAT}"
    cursor = SOURCE.index("    return 2")  # the rest of the file is hidden from the left-to-right prompt
    answers = []
    for engine in (int4, dense):
        engine.open("file:///a.py", SOURCE)
        first = engine.complete("file:///a.py", cursor).suggestions
        engine.change("file:///a.py", [TextChange(0, 0, "import math\n")])  # a PIE edit above the cursor
        engine.documents["file:///a.py"].shown = None
        second = engine.complete("file:///a.py", cursor + len("import math\n")).suggestions
        answers.append((first, second))
    for got, expected in zip(answers[0], answers[1]):
        assert [s.text for s in got] == [s.text for s in expected]
        # the low-bit model's head computes the tail of the vocabulary in int8 (completion/model/head.py): the
        # softmax's normaliser moves the scores slightly (here by up to 0.15 of -24: 0.6%); the text is exact
        assert [s.logprob for s in got] == pytest.approx([s.logprob for s in expected], rel=0.01)
