"""tree_attention: the reference against a loop-per-query softmax, the Triton kernel against the reference.

Key layout of a case: [prefix P][hidden H][tree block: scratch C, then the T nodes][trailing R]. H = C = R = 0 is
DESIGN.md's layout (the nodes are the last T keys); the engine's has hidden document slots after the cursor and
scratch slots (earlier accepted tokens) that the tree block's mask reveals row by row.
"""

import dataclasses

import pytest
import torch

from kvcomplete.kernels.tree_attention import tree_attention, tree_attention_mask, tree_attention_reference


@dataclasses.dataclass(frozen=True)
class Case:
    """One tree-attention problem: shapes, each row's valid prefix and the tree's shape."""

    batch: int
    q_heads: int
    kv_heads: int
    nodes: int
    prefix: int  # P, prefix slots in k/v (each row uses prefix_len[b] <= P of them)
    head_dim: int
    prefix_len: tuple[int, ...]
    tree: str  # "chain" (causal), "wide" (root + self), "random" (random parents)
    hidden: int = 0  # H: keys after the prefix that no node sees
    scratch: int = 0  # C: tree-block keys before the nodes, each visible to a random half of the nodes
    trailing: int = 0  # R: keys after the tree block

    @property
    def tree_start(self) -> int | None:
        """None (the default: the last S keys) for DESIGN.md's layout, else P + H."""
        return self.prefix + self.hidden if self.hidden or self.trailing else None

    def inputs(self, dtype: torch.dtype, device: torch.device, seed: int = 0):
        """q, k, v, prefix_len, tree_mask [B, T, C + T]; keys outside the prefix and the tree block hold 1e4, so
        a leak would dominate the softmax."""
        gen = torch.Generator().manual_seed(seed)
        start = self.prefix + self.hidden
        keys = start + self.scratch + self.nodes + self.trailing
        q = torch.randn(self.batch, self.q_heads, self.nodes, self.head_dim, generator=gen)
        k = torch.randn(self.batch, self.kv_heads, keys, self.head_dim, generator=gen)
        v = torch.randn(self.batch, self.kv_heads, keys, self.head_dim, generator=gen)
        for tensor in (k, v):
            tensor[:, :, self.prefix : start] = 1e4
            tensor[:, :, keys - self.trailing :] = 1e4
        masks = [
            torch.cat((torch.rand(self.nodes, self.scratch, generator=gen) < 0.5, tree_mask(self.tree, self.nodes, gen)), 1)
            for _ in range(self.batch)
        ]  # fmt: skip
        q, k, v = (t.to(device=device, dtype=dtype) for t in (q, k, v))
        return q, k, v, torch.tensor(self.prefix_len, device=device), torch.stack(masks).to(device)


def tree_mask(kind: str, nodes: int, gen: torch.Generator) -> torch.Tensor:
    """[T, T] bool: node i sees node j. Every node sees itself; "random" draws parent(i) < i uniformly."""
    if kind == "chain":
        return torch.ones(nodes, nodes, dtype=torch.bool).tril()
    mask = torch.eye(nodes, dtype=torch.bool)
    for node in range(1, nodes):
        parent = 0 if kind == "wide" else int(torch.randint(0, node, (1,), generator=gen))
        mask[node] |= mask[parent] if kind == "random" else torch.arange(nodes) == parent
    return mask


def naive_tree_attention(q, k, v, prefix_len, tree_mask, scale, tree_start=None) -> torch.Tensor:
    """One fp64 softmax per (batch, query head, node) over the list of keys it sees; zeros when it sees none."""
    batch, q_heads, nodes, _ = q.shape
    kv_heads, tree_keys = k.shape[1], tree_mask.shape[2]
    tree_start = k.shape[2] - tree_keys if tree_start is None else tree_start
    out = torch.zeros(q.shape, dtype=torch.float64)
    for b in range(batch):
        for head in range(q_heads):
            kv_head = head // (q_heads // kv_heads)
            for node in range(nodes):
                seen = list(range(int(prefix_len[b])))
                seen += [tree_start + j for j in range(tree_keys) if tree_mask[b, node, j]]
                if seen:
                    scores = k[b, kv_head, seen].double() @ q[b, head, node].double() * scale
                    out[b, head, node] = scores.softmax(0) @ v[b, kv_head, seen].double()
    return out


CASES = {
    "gqa-ragged-random": Case(3, 4, 2, 6, 40, 32, (40, 17, 0), "random"),
    "mha-chain": Case(1, 2, 2, 8, 20, 64, (20,), "chain"),
    "t1-gqa4": Case(2, 8, 2, 1, 33, 32, (33, 5), "chain"),
    "wide-mqa": Case(2, 4, 1, 7, 16, 32, (10, 16), "wide"),
    "no-prefix": Case(1, 2, 1, 5, 0, 32, (0,), "random"),
    # the engine's layout: hidden document slots, scratch in the tree block; ragged, GQA, partial tiles
    "engine-layout": Case(1, 4, 2, 5, 30, 16, (30,), "random", hidden=13, scratch=7),
    "hidden-trailing-ragged": Case(2, 6, 2, 4, 24, 32, (24, 11), "chain", hidden=9, scratch=40, trailing=6),
    "head-dim-24": Case(1, 4, 2, 3, 21, 24, (21,), "random", hidden=5, scratch=3),
}
DTYPES = pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
TOLERANCE = {torch.float32: {"atol": 2e-5, "rtol": 1e-4}, torch.bfloat16: {"atol": 2e-2, "rtol": 2e-2}}


@DTYPES
@pytest.mark.parametrize("name", CASES)
def test_reference_matches_naive_loop(name, dtype):
    case = CASES[name]
    q, k, v, prefix_len, mask = case.inputs(dtype, torch.device("cpu"))
    scale = case.head_dim**-0.5
    got = tree_attention_reference(q, k, v, prefix_len, mask, scale, tree_start=case.tree_start)
    assert got.dtype == dtype and got.shape == q.shape
    expected = naive_tree_attention(q, k, v, prefix_len, mask, scale, case.tree_start)
    torch.testing.assert_close(got.double(), expected, **TOLERANCE[dtype])


@pytest.mark.parametrize("chunk_size", [None, 16])  # None: one chunk on CPU; 16: several chunks to merge
@DTYPES
@pytest.mark.parametrize("name", CASES)
def test_triton_matches_reference(name, dtype, chunk_size, device):
    case = CASES[name]
    q, k, v, prefix_len, mask = case.inputs(dtype, device)
    scale = case.head_dim**-0.5
    got = tree_attention(q, k, v, prefix_len, mask, scale, tree_start=case.tree_start, backend="triton",
                         chunk_size=chunk_size)  # fmt: skip
    assert got.dtype == dtype and got.shape == q.shape
    expected = tree_attention_reference(q, k, v, prefix_len, mask, scale, tree_start=case.tree_start)
    torch.testing.assert_close(got, expected, **TOLERANCE[dtype])


def test_max_prefix_len_sizes_the_split_only(device):
    """A host bound on prefix_len (the engine knows it) changes how the prefix is split, not the result."""
    case = CASES["hidden-trailing-ragged"]
    q, k, v, prefix_len, mask = case.inputs(torch.float32, device)
    expected = tree_attention_reference(q, k, v, prefix_len, mask, 0.3, tree_start=case.tree_start)
    got = tree_attention(q, k, v, prefix_len, mask, 0.3, tree_start=case.tree_start, max_prefix_len=24,
                         backend="triton", chunk_size=8)  # fmt: skip
    torch.testing.assert_close(got, expected, **TOLERANCE[torch.float32])


def test_tree_block_outside_the_keys_is_refused():
    q, k, v, prefix_len, mask = CASES["engine-layout"].inputs(torch.float32, torch.device("cpu"))
    with pytest.raises(AssertionError, match="tree block"):
        tree_attention(q, k, v, prefix_len, mask, 0.3, tree_start=k.shape[2] - 3)
    with pytest.raises(AssertionError, match="prefix_len reaches into the tree block"):
        tree_attention(q, k, v, prefix_len, mask, 0.3, tree_start=10)


def test_triton_reads_strided_views_and_ignores_padding(device):
    """k/v as a slice of a larger cache, q with its heads and nodes transposed; garbage in the padding."""
    case = Case(2, 4, 2, 4, 24, 32, (24, 9), "random")
    q, k, v, prefix_len, mask = case.inputs(torch.float32, device)
    k[1, :, 9:24] = v[1, :, 9:24] = 1e4  # padding slots of row 1: any leak would dominate its softmax
    cache = torch.zeros(2, 2, 40, 32, device=device)
    cache[:, :, 3:31] = k
    q_strided = q.transpose(1, 2).contiguous().transpose(1, 2)
    got = tree_attention(q_strided, cache[:, :, 3:31], v, prefix_len, mask, 0.2, backend="triton", chunk_size=8)
    expected = tree_attention_reference(q, k, v, prefix_len, mask, 0.2)
    torch.testing.assert_close(got, expected, **TOLERANCE[torch.float32])


def test_node_that_sees_nothing_gets_zeros(device):
    q, k, v, prefix_len, mask = Case(1, 2, 1, 3, 8, 32, (0,), "chain").inputs(torch.float32, device)
    mask[0, 1, :] = False
    for backend in ("reference", "triton"):
        got = tree_attention(q, k, v, prefix_len, mask, 0.2, backend=backend)
        assert torch.equal(got[0, :, 1], torch.zeros_like(got[0, :, 1])) and got.isfinite().all()


def test_mask_marks_ragged_prefix_and_tree():
    mask = tree_attention_mask(torch.tensor([2, 0]), torch.ones(2, 2, 2, dtype=torch.bool).tril(), tree_start=3)
    assert mask.shape == (2, 1, 2, 5)
    assert mask[0, 0].tolist() == [[True, True, False, True, False], [True, True, False, True, True]]
    assert mask[1, 0].tolist() == [[False, False, False, True, False], [False, False, False, True, True]]


def test_mask_hides_keys_between_prefix_and_tree_block_and_after_it():
    tree = torch.tensor([[[True, False, True]]])  # one node, a tree block of 3 keys at slot 4
    mask = tree_attention_mask(torch.tensor([3]), tree, tree_start=4, keys=8)
    assert mask[0, 0, 0].tolist() == [True, True, True, False, True, False, True, False]


def test_auto_uses_the_reference_off_cuda():
    q, k, v, prefix_len, mask = CASES["t1-gqa4"].inputs(torch.float32, torch.device("cpu"))
    got = tree_attention(q, k, v, prefix_len, mask, 0.1)
    assert torch.equal(got, tree_attention_reference(q, k, v, prefix_len, mask, 0.1))
    with pytest.raises(ValueError, match="backend"):
        tree_attention(q, k, v, prefix_len, mask, 0.1, backend="cuda")


@pytest.mark.parametrize(
    ("case", "dtype"),
    [
        (Case(1, 32, 8, 64, 4096, 128, (4096,), "random"), torch.bfloat16),
        (Case(3, 32, 8, 16, 3000, 128, (3000, 1000, 1), "wide"), torch.bfloat16),
        (Case(2, 16, 4, 33, 2048, 64, (2048, 700), "chain"), torch.float16),
        (Case(1, 8, 8, 128, 1024, 128, (999,), "random"), torch.float32),
        (Case(1, 12, 2, 64, 3000, 128, (3000,), "random", hidden=5000, scratch=150), torch.bfloat16),
        (Case(2, 32, 32, 16, 2500, 80, (2500, 1200), "wide", hidden=700, scratch=40, trailing=30), torch.float16),
    ],
    ids=["P4k-T64-gqa4", "ragged-T16-wide", "fp16-D64-T33", "fp32-mha-T128", "engine-qwen2-1.5b", "phi2-D80-ragged"],
)
def test_triton_matches_reference_large(case, dtype, gpu):
    q, k, v, prefix_len, mask = case.inputs(dtype, gpu)
    scale = case.head_dim**-0.5
    got = tree_attention(q, k, v, prefix_len, mask, scale, tree_start=case.tree_start, backend="triton")
    expected = tree_attention_reference(q, k, v, prefix_len, mask, scale, tree_start=case.tree_start)
    torch.testing.assert_close(got, expected, atol=2e-2, rtol=2e-2)
