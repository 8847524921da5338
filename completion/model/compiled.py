"""The ``compile`` setting: whether the model's forward runs through ``torch.compile``, and why.

Measured on a 2-core CPU (SmolLM2-135M in bf16, one-token greedy steps at ~900 cached tokens): eager
22.3 ms a step; ``torch.compile(model.forward, dynamic=True)`` (inductor, default mode) 77-89 ms a step, after a
first compile of 30-110 s. The matmuls cost the same either way (17.5 ms a step); inductor's generated kernels
for the rest take ~62 ms a step. No graph breaks or recompiles were logged: the loss is in the kernels, not in
dynamo. So auto is off on a CPU. On CUDA it has not been measured (no GPU was lent yet), so auto is off there
too until it is; ``on`` tries it (kernels/gpu_check.sh).

A compiled forward is one graph per shape class, not per shape: dynamo (``dynamic=True``) specializes a width of
1, the first encode (no prefix: its mask is as wide as its tokens), ``logits_to_keep`` (all logits for steps
and trees, the last for encodes), input embeddings instead of ids (superposed decoding) and each branch taken
on the width (completion/model/attention.py's NARROW_TOKENS on a CPU in bf16, the runner's TREE_KERNEL_MAX_TOKENS
with the tree kernel, completion/model/weights.py's MAX_ROWS with low-bit weights). That is about 8 graphs, dynamo's
default limit, past which it would run new shape classes eagerly: RECOMPILE_LIMIT raises it. Dynamo also
guards on torch's thread count (so a compiled runner keeps one count: completion/model/runner.py) and on whether
inputs are inference tensors (the engine runs in inference mode). ``warm_up`` compiles the graphs of a first
request at load, so that the request does not wait for them; an edit's short re-encodes compile when first run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import torch

from kvcomplete.completion.cache.kv_store import KVStore
from kvcomplete.completion.config import COMPILE
from kvcomplete.completion.model.attention import NARROW_TOKENS

if TYPE_CHECKING:
    from kvcomplete.completion.model.runner import ModelRunner

RECOMPILE_LIMIT = 16  # graphs of the forward at most (dynamo's default, 8, is about what a session needs)
# Warm-up widths, primes so that none equals a dimension of the model (dynamo would specialize the width to
# it: "duck sizing"). A prompt's chunk is wider than every width branch: the runner's tree kernel (up to
# TREE_KERNEL_MAX_TOKENS, 128) and the low-bit kernels (completion/model/weights.py MAX_ROWS, 16). Trees lie on either
# side of NARROW_TOKENS and of MAX_ROWS (speculation's trees reach 64 nodes).
ENCODE_WIDTH = 131
TREE_WIDTHS = (NARROW_TOKENS - 1, 7, 37)


def resolve_compile(requested: str, device: torch.device) -> tuple[bool, str]:
    """(compile or not, why) for the ``compile`` setting on ``device``."""
    if requested not in COMPILE:
        raise ValueError(f"compile must be one of {', '.join(COMPILE)}, not {requested!r}")
    if requested != "auto":
        return requested == "on", "set"
    if device.type == "cuda":
        return False, "auto: off on GPU until measured there (compile on tries it)"
    return False, "auto: off on CPU (a compiled step measured 3.5-4x slower than eager; docs/benchmarks.md)"


def compile_forward(model: torch.nn.Module) -> None:
    """Run ``model``'s forward through ``torch.compile`` from now on. The eager forward stays reachable as
    ``model.eager_forward``, for a caller that compares the two on the same weights."""
    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, RECOMPILE_LIMIT)
    model.eager_forward = model.forward
    model.forward = torch.compile(model.eager_forward, dynamic=True)


@torch.inference_mode()
def warm_up(runner: ModelRunner, report: Callable[[str, "float | None"], None], start: float, end: float) -> None:
    """Compile the graphs of a first request (a prompt's encodes, steps, trees, a superposed step) by running
    them once on a scratch store; progress goes to ``report`` at fractions from ``start`` to ``end``."""
    store = runner.new_store(2 * ENCODE_WIDTH + max(TREE_WIDTHS))
    forwards = [("a prompt's first chunk", lambda: runner.encode(store, [0] * ENCODE_WIDTH, 0)),
                ("a prompt's next chunk", lambda: runner.encode(store, [0] * ENCODE_WIDTH, ENCODE_WIDTH)),
                ("a one-token step", lambda: _scratch_forward(runner, store, 1)),
                ("a superposed step", lambda: _scratch_forward(runner, store, 1, runner.embed([0])))]
    forwards += [(f"a {width}-token tree", lambda width=width: _scratch_forward(runner, store, width))
                 for width in TREE_WIDTHS]
    for done, (what, forward) in enumerate(forwards):
        report(f"compiling the forward for {what}", start + (end - start) * done / len(forwards))
        forward()


def _scratch_forward(runner: ModelRunner, store: KVStore, width: int, embeds: torch.Tensor | None = None) -> None:
    """A causal forward of ``width`` tokens into the scratch slots after the store's committed ones."""
    at = store.length
    runner.forward(store, [0] * width, torch.arange(at, at + width), at, at,
                   torch.ones(width, width, dtype=torch.bool).tril(), embeds=embeds)
