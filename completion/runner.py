"""The one module that runs the model: a forward of some tokens against a KV store, with an explicit mask.

Every forward here has the same shape of problem: ``n`` new tokens at explicit positions, written to store
slots [write_at, write_at + n), each seeing the store's slots [0, prefix_len) plus the new or scratch slots
its ``visible`` row allows. Encoding a document chunk, one greedy step and (later) a draft tree are all this.
"""

from __future__ import annotations

import contextlib

import torch

from completion.kv_store import KVStore
from completion.models import LoadedModel, head_dim, num_kv_heads

PREFILL_CHUNK = 512  # tokens per encoding forward: bounds the [heads, chunk, context] score memory
# On CPU, a forward of few tokens runs on one thread: multi-threaded GEMMs with few rows are slower, and
# pathologically so (10-60x, measured) when another process is busy on the cores, as an editor is.
SINGLE_THREAD_BELOW = 256


@contextlib.contextmanager
def _threads_for(device: torch.device, tokens: int):
    if device.type != "cpu" or tokens >= SINGLE_THREAD_BELOW or torch.get_num_threads() == 1:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class ModelRunner:
    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self.model = loaded.model
        self.device = loaded.device
        config = loaded.config
        self.store_shape = (config.num_hidden_layers, num_kv_heads(config), head_dim(config))
        self.tokens_encoded = 0

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
        mask = torch.zeros(1, 1, n, write_at + n, dtype=torch.bool, device=self.device)
        mask[..., :prefix_len] = True
        mask[0, 0, :, prefix_len:] = visible.to(self.device)
        if embeds is None:
            inputs = {"input_ids": torch.tensor([tokens], dtype=torch.long, device=self.device)}
        else:
            inputs = {"inputs_embeds": embeds.to(device=self.device, dtype=self.loaded.dtype).unsqueeze(0)}
        cache = store.cache_for_write(write_at, n)
        keep = logits_for or slice(None)
        with _threads_for(self.device, n):
            out = self.model(**inputs, position_ids=positions.view(1, n).to(self.device), attention_mask=mask,
                             past_key_values=cache, use_cache=True, logits_to_keep=_keep_arg(keep, n))
        self.tokens_encoded += n
        return out.logits[0].float()

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
            store.encoded_at[at: at + len(chunk)] = positions.to(store.encoded_at.device)
            store.length = at + len(chunk)
        return logits


def _keep_arg(keep: slice, n: int):
    """transformers' ``logits_to_keep``: an int keeps the last N; a slice is passed as-is."""
    if keep == slice(None):
        return 0
    if keep.start is not None and keep.start < 0 and keep.stop is None:
        return -keep.start
    return keep
