"""The engine with kernels="triton" (tree attention + PIE re-rotation through Triton; the interpreter on CPU)
completes exactly as with kernels="torch", with and without speculation, before and after a PIE edit.

(Suggestion #1 of speculative decoding equals greedy decoding: test_engine_speculation.py, with either path.)"""

from __future__ import annotations

import pytest

from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine, TextChange
from kvcomplete.completion.model import loading

SOURCE = '''def scale(points, factor):
    return [(x * factor, y * factor) for x, y in points]


def shift(points, dx, dy):
    return [(x + dx, y + dy) for x, y in points]


def mirror(points):
'''
URI = "file:///geometry.py"


@pytest.fixture(scope="module")
def loaded(tiny_model_dir):
    """float32 dense weights: the Triton kernel and SDPA round alike there; bf16 ties on a random tiny model
    would break either way."""
    return loading.load(Settings(model=str(tiny_model_dir), device="cpu", dtype="float32", weights="fp32"))


def completions(loaded, kernels: str, speculation: bool) -> list[list[str]]:
    """Suggestions inside the document (the slots after the cursor hidden), before and after a PIE edit in front
    of the cursor (the prompt then holds re-rotated keys)."""
    engine = Engine(Settings(device="cpu", dtype="float32", weights="fp32", suggestions=1, max_tokens=6,
                             speculation=speculation, kernels=kernels), loaded=loaded)
    engine.open(URI, SOURCE)
    cursor = SOURCE.index("    return [(x + dx")
    results = [engine.complete(URI, cursor)]
    engine.change(URI, [TextChange(0, 0, "import math\n")])
    results.append(engine.complete(URI, cursor + len("import math\n")))
    assert engine.stats()["pieUpdates"] == 1
    return [[s.text for s in result.suggestions] for result in results]


@pytest.mark.slow  # whole completions through Triton's interpreter on CPU
@pytest.mark.parametrize("speculation", [False, True], ids=["greedy", "speculative"])
def test_triton_kernels_complete_like_torch(loaded, speculation, count_tree_attention):
    expected = completions(loaded, "torch", speculation)
    assert all(expected), "every request should get a suggestion"
    calls = count_tree_attention()
    assert completions(loaded, "triton", speculation) == expected
    assert calls, "the triton engine ran no forward through the tree kernel"


def test_reconfigure_switches_kernels_without_reloading(loaded):
    engine = Engine(Settings(device="cpu", kernels="triton"), loaded=loaded)
    runner = engine.runner
    engine.reconfigure(engine.settings.replace(kernels="torch"))
    assert engine.runner is runner and not runner.tree_kernel and runner.kernel_backend == "reference"
