"""The one module that runs the model: a forward of some tokens against a KV store, with an explicit mask.

Every forward here has the same shape of problem: ``n`` new tokens at explicit positions, written to store
slots [write_at, write_at + n), each seeing the store's slots [0, prefix_len) plus the new or scratch slots
its ``visible`` row allows. Encoding a document chunk, one greedy step and a draft tree are all this.

Which attention runs is decided here, once per forward (completion/model/attention.py): the Triton tree-attention
kernel for forwards of up to TREE_KERNEL_MAX_TOKENS tokens (verification trees, superposed steps, typing-sized
encodes) when the ``kernels`` setting resolves to Triton (auto: on CUDA), else SDPA with the full mask (long
encodes everywhere: SDPA's prefill kernels are built for them). The same setting picks PIE's re-rotation kernel
(``kernel_backend``).

On CPU, the thread count of each forward is the runner's ThreadPolicy's (completion/model/threads.py): chosen per
width from the measured times of earlier forwards, since the best count depends on what else runs (one fixed
count when the forward is compiled: the ``compile`` setting, completion/model/compiled.py).
"""

from __future__ import annotations

import inspect
import time
from typing import Callable

import torch

from kvcomplete.completion.cache.kv_store import KVStore
from kvcomplete.completion.config import KERNELS
from kvcomplete.completion.model.attention import TreeBlock, split_tree_block
from kvcomplete.completion.model.spec import LoadedModel, ModelError, head_dim, num_kv_heads
from kvcomplete.completion.model.threads import ThreadPolicy, available_threads, candidate_counts
from kvcomplete.kernels._triton import triton_runs
from kvcomplete.kernels.tree_attention import MAX_HEAD_DIM

PREFILL_CHUNK = 512  # tokens per encoding forward: bounds the [heads, chunk, context] score memory
TREE_KERNEL_MAX_TOKENS = 128  # the tree kernel is built for trees (T <= 128); longer forwards are prefills


class ModelRunner:
    def __init__(self, loaded: LoadedModel, kernels: str = "auto", threads: ThreadPolicy | None = None) -> None:
        """``threads``: the CPU thread policy (completion/model/threads.py); default: measured among 1, 2, 4, ...
        up to torch's thread count, or that count alone for a compiled forward (a compiled graph is only
        reused at the thread count it was compiled at: completion/model/compiled.py). Unused on GPUs."""
        self.loaded = loaded
        self.model = loaded.model
        self.device = loaded.device
        config = loaded.config
        self.store_shape = (config.num_hidden_layers, num_kv_heads(config), head_dim(config))
        self.sliding_window = sliding_window(config)
        self.tokens_encoded = 0
        self._cache_argument = cache_argument(type(self.model).forward)
        counts = (available_threads(),) if loaded.compiled else candidate_counts(available_threads())
        self.threads = None if self.device.type != "cpu" else threads or ThreadPolicy(counts)
        self.use_kernels(kernels)

    def use_kernels(self, kernels: str) -> None:
        """Apply the ``kernels`` setting: "auto" (Triton on CUDA, PyTorch elsewhere), "triton" or "torch".

        Sets ``kernel_backend`` (the ``backend`` argument of kernels/ functions, for PIE's re-rotation) and
        ``tree_kernel`` (whether small forwards use the Triton tree attention). Raises ModelError, changing
        nothing, where the choice cannot run here.
        """
        if kernels not in KERNELS:
            raise ValueError(f"kernels must be one of {', '.join(KERNELS)}, not {kernels!r}")
        try:  # the setting's "torch" is the kernels' "reference" backend
            triton = triton_runs("reference" if kernels == "torch" else kernels, self.device.type == "cuda")
        except ValueError as error:
            raise ModelError(f"kernels={kernels!r} cannot run on {self.device}: {error}") from None
        fits = self.store_shape[2] <= MAX_HEAD_DIM and self.sliding_window is None
        if triton and not fits and kernels == "triton":
            raise ModelError(f"kernels='triton': the tree-attention kernel takes head dims up to {MAX_HEAD_DIM} and "
                             f"no sliding window, this model has {self.store_shape[2]} and {self.sliding_window}; "
                             "use kernels 'auto' or 'torch'")
        self.kernel_backend = "triton" if triton else "reference"
        self.tree_kernel = triton and fits

    def new_store(self, capacity: int = 256) -> KVStore:
        layers, heads, dim = self.store_shape
        return KVStore(layers, heads, dim, self.loaded.dtype, self.device, capacity)

    @torch.inference_mode()
    def forward(self, store: KVStore, tokens: list[int], positions: torch.Tensor, write_at: int,
                prefix_len: int, visible: torch.Tensor, logits_for: slice | None = None,
                embeds: torch.Tensor | None = None) -> torch.Tensor:
        """Logits [len(tokens[logits_for]), vocab] (fp32) after writing the tokens' K/V at ``write_at``.

        positions: [n] rotary positions; visible: [n, write_at + n - prefix_len] bool, which of the slots
        [prefix_len, write_at + n) each new token sees (slots [0, prefix_len) are always visible).
        embeds: [n, hidden] input embeddings used instead of the tokens' (superposed decoding); ``tokens``
        then only gives n.
        """
        n = len(tokens) if embeds is None else embeds.shape[0]
        assert positions.shape == (n,) and visible.shape == (n, write_at + n - prefix_len), visible.shape
        if self.tree_kernel and n <= TREE_KERNEL_MAX_TOKENS:
            mask, attention_args = self._tree_block(prefix_len, visible)
        else:
            mask, attention_args = self._full_mask(prefix_len, visible), {}
            if self.sliding_window is not None:
                mask = self._masks_by_layer_type(store, mask, positions, write_at)
        if embeds is None:
            inputs = {"input_ids": torch.tensor([tokens], dtype=torch.long, device=self.device)}
        else:
            inputs = {"inputs_embeds": embeds.to(device=self.device, dtype=self.loaded.dtype).unsqueeze(0)}
        cache = store.cache_for_write(write_at, n)
        store.encoded_at[write_at: write_at + n] = positions.to(store.encoded_at.device)
        keep = logits_for or slice(None)
        threads = self._use_threads(n)
        started = time.perf_counter()
        out = self.model(**inputs, position_ids=positions.view(1, n).to(self.device), attention_mask=mask,
                         **{self._cache_argument: cache}, use_cache=True, logits_to_keep=_keep_arg(keep, n),
                         **attention_args)
        logits = out.logits[0].float()
        if threads:
            self.threads.record(n, threads, time.perf_counter() - started)
        self.tokens_encoded += n
        return logits

    def _use_threads(self, n: int) -> int | None:
        """Set torch's (process-wide) thread count to the policy's choice for ``n`` tokens, if it differs;
        returns the count (None off CPU)."""
        if self.threads is None:
            return None
        threads = self.threads.threads_for(n)
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        return threads

    def _full_mask(self, prefix_len: int, visible: torch.Tensor) -> torch.Tensor:
        """The boolean mask [1, 1, n, context] over every key (the SDPA path)."""
        n, width = visible.shape
        mask = torch.zeros(1, 1, n, prefix_len + width, dtype=torch.bool, device=self.device)
        mask[..., :prefix_len] = True
        mask[0, 0, :, prefix_len:] = visible.to(self.device)
        return mask

    def _masks_by_layer_type(self, store: KVStore, mask: torch.Tensor, positions: torch.Tensor,
                             write_at: int) -> dict[str, torch.Tensor]:
        """transformers' per-layer-type masks: full-attention layers take ``mask``; sliding-window layers see, of
        it, the keys less than the window behind each query. A document slot's key sits at the slot's position
        (encodes write there and PIE re-rotates moved keys there); a scratch slot's at the position it was
        written with; the new tokens' at ``positions``."""
        n, context = positions.shape[0], mask.shape[-1]
        keys = torch.arange(context, device=self.device)
        scratch = slice(store.length, write_at)
        keys[scratch] = store.encoded_at[scratch].to(self.device)
        keys[write_at:] = positions.to(self.device)
        near = keys[None, :] > positions.to(self.device)[:, None] - self.sliding_window
        return {"full_attention": mask, "sliding_attention": mask & near.view(1, 1, n, context)}

    def _tree_block(self, prefix_len: int, visible: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """The tree block's mask [1, 1, n, S] and the ``tree_block`` argument (the tree-kernel path)."""
        tree_start, tree_mask = split_tree_block(prefix_len, visible)
        prefix_lens = torch.tensor([prefix_len], dtype=torch.int32, device=self.device)
        return tree_mask.to(self.device)[None, None], {"tree_block": TreeBlock(prefix_len, tree_start, prefix_lens)}

    def embed(self, tokens: list[int]) -> torch.Tensor:
        """Input embeddings [n, hidden] of ``tokens``, in fp32."""
        ids = torch.tensor(tokens, dtype=torch.long, device=self.device)
        return self.model.get_input_embeddings()(ids).float()

    def encode(self, store: KVStore, tokens: list[int], start: int) -> torch.Tensor | None:
        """Encode ``tokens`` into slots/positions [start, ...), each seeing all earlier ones; commits them.

        Returns the logits after the last token (None for no tokens).
        """
        logits = None
        for offset in range(0, len(tokens), PREFILL_CHUNK):
            chunk = tokens[offset: offset + PREFILL_CHUNK]
            at = start + offset
            positions = torch.arange(at, at + len(chunk))
            causal = torch.ones(len(chunk), len(chunk), dtype=torch.bool).tril()
            logits = self.forward(store, chunk, positions, at, at, causal, logits_for=slice(-1, None))
            store.length = at + len(chunk)
        return logits


def sliding_window(config) -> int | None:
    """The window of the model's sliding-window layers (Gemma 3's local layers), None when every layer sees
    all keys."""
    window = getattr(config, "sliding_window", None)
    return window if window and "sliding_attention" in (getattr(config, "layer_types", None) or ()) else None


def cache_argument(forward: Callable) -> str:
    """The name a model's forward takes its KV cache by: ``cache`` from transformers 5.25 on (where
    ``past_key_values`` still works but warns on every forward), ``past_key_values`` before."""
    return "cache" if "cache" in inspect.signature(forward).parameters else "past_key_values"


def _keep_arg(keep: slice, n: int):
    """transformers' ``logits_to_keep``: an int keeps the last N; a slice is passed as-is."""
    if keep == slice(None):
        return 0
    if keep.start is not None and keep.start < 0 and keep.stop is None:
        return -keep.start
    return keep
