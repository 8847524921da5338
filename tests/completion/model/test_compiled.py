"""compile on: a torch.compile'd forward, warmed up at load, gives the eager forward's tokens; auto is off."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from kvcomplete.completion.config import Settings
from kvcomplete.completion.drafts.budget import SpeculationBudget
from kvcomplete.completion.model import compiled
from kvcomplete.completion.model.attention import NARROW_TOKENS
from kvcomplete.completion.model.loading import load
from kvcomplete.completion.model.runner import PREFILL_CHUNK, TREE_KERNEL_MAX_TOKENS, ModelRunner
from kvcomplete.completion.model.weights import MAX_ROWS

CPU, CUDA = torch.device("cpu"), torch.device("cuda")
STEPS = 4
TREE = 6  # wider than the narrow attention's widths, narrower than the warm-up's tree: one graph for both
LOGITS_ATOL = 1e-4  # fp32 logits of the tiny model are about 1e-1..1; compiled and eager differ by ~1e-6


@pytest.mark.parametrize("device", [CPU, CUDA])
def test_auto_is_off_everywhere_for_now(device):
    choice, reason = compiled.resolve_compile("auto", device)
    assert choice is False and reason.startswith("auto: off")


def test_forced_choices():
    assert compiled.resolve_compile("on", CPU) == (True, "set")
    assert compiled.resolve_compile("off", CUDA) == (False, "set")


def test_a_bad_value_is_refused():
    with pytest.raises(ValueError, match="compile must be one of auto, on, off, not 'yes'"):
        compiled.resolve_compile("yes", CPU)
    with pytest.raises(ValueError, match="compile must be one of auto, on, off, not 'yes'"):
        Settings(compile="yes")


class WidthRecorder:
    """A runner without a model that records the widths of the forwards asked of it: what the warm-up compiles."""

    def __init__(self) -> None:
        self.encodes: list[int] = []
        self.forwards: list[tuple[int, bool]] = []  # (width, with input embeddings: a superposed step)

    def new_store(self, capacity: int) -> SimpleNamespace:
        return SimpleNamespace(length=0)

    def embed(self, tokens: list[int]) -> torch.Tensor:
        return torch.zeros(len(tokens), 1)

    def encode(self, store, tokens: list[int], start: int) -> None:
        self.encodes.append(len(tokens))

    def forward(self, store, tokens: list[int], positions, write_at, prefix_len, visible, embeds=None) -> None:
        self.forwards.append((len(tokens), embeds is not None))


def test_the_warm_up_runs_both_sides_of_every_width_branch():
    """Each branch a forward takes on its width is its own graph: the forwards the warm-up runs take both sides
    of each (NARROW_TOKENS on a CPU in bf16, the tree kernel's TREE_KERNEL_MAX_TOKENS, the low-bit MAX_ROWS)."""
    runner = WidthRecorder()
    compiled.warm_up(runner, lambda message, fraction: None, 0.0, 1.0)
    low_bit_rows = max(MAX_ROWS.values())
    assert runner.encodes and all(max(TREE_KERNEL_MAX_TOKENS, low_bit_rows) < width <= PREFILL_CHUNK
                                  for width in runner.encodes)  # one chunk each, past both width branches
    assert sorted(forward for forward in runner.forwards if forward[0] == 1) == [(1, False), (1, True)]
    trees = [width for width, _ in runner.forwards if width > 1]  # one-token steps are a shape of their own
    sides = {(width <= NARROW_TOKENS, width <= low_bit_rows) for width in trees}
    assert sides == {(True, True), (False, True), (False, False)}  # narrow, middle, wide
    assert max(trees) <= SpeculationBudget().max_nodes  # no graph for a tree speculation never builds


def run_request(runner: ModelRunner, prompt: list[int]) -> tuple[list[int], list[torch.Tensor]]:
    """Encode ``prompt``, take STEPS greedy one-token steps at increasing positions, then one tree forward
    whose nodes see one of two branches and not the document slots after the prefix (as a decoder's do)."""
    store = runner.new_store()
    logits = [runner.encode(store, prompt, 0)]
    position, tokens = len(prompt), []
    for _ in range(STEPS):
        tokens.append(int(logits[-1][-1].argmax()))
        logits.append(runner.forward(store, tokens[-1:], torch.tensor([position]), position, position,
                                     torch.ones(1, 1, dtype=torch.bool)))
        position += 1
    prefix = len(prompt) - 3  # the last 3 prompt slots are hidden from the tree, like the text after a cursor
    branches = torch.ones(TREE, TREE, dtype=torch.bool).tril()
    branches[TREE // 2:, : TREE // 2] = False  # the second half is a branch of its own
    visible = torch.cat((torch.zeros(TREE, position - prefix, dtype=torch.bool), branches), dim=1)
    tree_positions = torch.tensor([position + i % (TREE // 2) for i in range(TREE)])
    logits.append(runner.forward(store, tokens[:TREE // 2] * 2, tree_positions, position, prefix, visible))
    return tokens + logits[-1].argmax(dim=-1).tolist(), logits


@pytest.mark.slow  # inductor compiles the warm-up's graphs: ~43 s on 2 cores with a cold cache, ~11 s warm
def test_the_compiled_step_gives_the_eager_tokens(save_tiny_model, tmp_path, tokenizer):
    loaded = load(Settings(model=str(save_tiny_model("llama", tmp_path, tokenizer)), device="cpu",
                           dtype="float32", compile="on"))
    assert loaded.info()["compile"] == "on" and loaded.info()["compile_reason"] == "set"
    runner = ModelRunner(loaded)
    prompt = tokenizer("def fibonacci(n):\n    if n < 2:\n        return n\n    return")["input_ids"]
    with torch.inference_mode(), torch.compiler.set_stance("fail_on_recompile"):  # the warm-up compiled these
        tokens, logits = run_request(runner, prompt)
    loaded.model.forward = loaded.model.eager_forward
    with torch.inference_mode():
        eager_tokens, eager_logits = run_request(runner, prompt)
    assert tokens == eager_tokens
    for got, expected in zip(logits, eager_logits, strict=True):
        torch.testing.assert_close(got, expected, atol=LOGITS_ATOL, rtol=0)


def test_off_by_default_and_shown_in_info(save_tiny_model, tmp_path, tokenizer):
    loaded = load(Settings(model=str(save_tiny_model("llama", tmp_path, tokenizer)), device="cpu"))
    assert not hasattr(loaded.model, "eager_forward")
    info = loaded.info()
    assert info["compile"] == "off" and info["compile_reason"].startswith("auto: off on CPU")
