"""Preallocated K/V of one document, addressed by slot, and the HF `Cache` view a forward writes through.

Layout (gpt-fast style, one tensor per kind for all layers so one launch can re-rotate every layer):
    keys, values, original_keys: [layers, kv_heads, capacity, head_dim]
``original_keys`` keeps each key exactly as it was encoded (rotated for ``encoded_at[slot]``); PIE always
re-rotates from there, never chains shifts (chained bf16 rotations drift). Slots [0, length) hold the
document; slots past ``length`` are scratch for a request (suggestion tokens) and are never committed.
"""

from __future__ import annotations

import torch
from transformers.cache_utils import Cache, CacheLayerMixin

GROWTH = 2


class KVStore:
    def __init__(self, layers: int, kv_heads: int, head_dim: int, dtype: torch.dtype, device: torch.device,
                 capacity: int = 256) -> None:
        self.shape = (layers, kv_heads, head_dim)
        self.dtype, self.device = dtype, device
        self.length = 0
        self.keys = self.values = self.original_keys = None
        self.encoded_at = torch.empty(0, dtype=torch.long, device=device)
        self._allocate(capacity)

    def _allocate(self, capacity: int) -> None:
        layers, heads, dim = self.shape
        fresh = [torch.zeros(layers, heads, capacity, dim, dtype=self.dtype, device=self.device) for _ in range(3)]
        encoded_at = torch.zeros(capacity, dtype=torch.long, device=self.device)
        if self.keys is not None:
            used = self.keys.shape[2]
            for new, old in zip(fresh, (self.keys, self.values, self.original_keys)):
                new[:, :, :used] = old
            encoded_at[:used] = self.encoded_at
        self.keys, self.values, self.original_keys = fresh
        self.encoded_at = encoded_at

    @property
    def capacity(self) -> int:
        return self.keys.shape[2]

    def reserve(self, slots: int) -> None:
        """Make room for ``slots`` slots in all (document and scratch)."""
        if slots > self.capacity:
            self._allocate(max(slots, self.capacity * GROWTH))

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (self.keys, self.values, self.original_keys))

    def move(self, source: int, target: int, count: int, keys: bool = True) -> None:
        """Copy slots [source, source+count) to [target, ...) (ranges may overlap). Without ``keys`` the
        rotated keys are left behind: PIE recomputes them at the target from the original keys anyway."""
        if count <= 0 or source == target:
            return
        for tensor in (self.keys, self.values, self.original_keys)[0 if keys else 1:]:
            tensor[:, :, target: target + count] = tensor[:, :, source: source + count].clone()
        self.encoded_at[target: target + count] = self.encoded_at[source: source + count].clone()

    def cache_for_write(self, write_at: int, count: int) -> "SlotCache":
        """An HF cache through which a forward of ``count`` tokens writes slots [write_at, write_at+count)."""
        self.reserve(write_at + count)
        return SlotCache(self, write_at)


class SlotLayer(CacheLayerMixin):
    """One layer's view: ``update`` writes the new K/V into the store and returns slots [0, write_at+n)."""

    is_compileable = False
    is_sliding = False

    def __init__(self, store: KVStore, layer: int, write_at: int) -> None:
        super().__init__()
        self.store, self.layer, self.write_at = store, layer, write_at
        self.is_initialized = True

    def lazy_initialization(self, key_states, value_states) -> None:  # storage is preallocated
        return None

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        # key_states: [1, kv_heads, n, head_dim]
        n = key_states.shape[-2]
        end = self.write_at + n
        store, layer = self.store, self.layer
        store.keys[layer, :, self.write_at:end] = key_states[0]
        store.original_keys[layer, :, self.write_at:end] = key_states[0]
        store.values[layer, :, self.write_at:end] = value_states[0]
        return store.keys[layer, :, :end].unsqueeze(0), store.values[layer, :, :end].unsqueeze(0)

    def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
        return self.write_at + query_length, 0

    def get_seq_length(self) -> int:
        return self.write_at

    def get_max_length(self) -> int:
        return -1


class SlotCache(Cache):
    def __init__(self, store: KVStore, write_at: int) -> None:
        super().__init__(layers=[SlotLayer(store, layer, write_at) for layer in range(store.shape[0])])
