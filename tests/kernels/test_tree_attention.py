"""tree_attention: the reference against a loop-per-query softmax, the Triton kernel against the reference."""

import dataclasses

import pytest
import torch

from kernels.tree_attention import tree_attention, tree_attention_mask, tree_attention_reference


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

    def inputs(self, dtype: torch.dtype, device: torch.device, seed: int = 0):
        gen = torch.Generator().manual_seed(seed)
        keys = self.prefix + self.nodes
        q = torch.randn(self.batch, self.q_heads, self.nodes, self.head_dim, generator=gen)
        k = torch.randn(self.batch, self.kv_heads, keys, self.head_dim, generator=gen)
        v = torch.randn(self.batch, self.kv_heads, keys, self.head_dim, generator=gen)
        masks = [tree_mask(self.tree, self.nodes, gen) for _ in range(self.batch)]
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


def naive_tree_attention(q, k, v, prefix_len, tree_mask, scale) -> torch.Tensor:
    """One fp64 softmax per (batch, query head, node) over the list of keys it sees; zeros when it sees none."""
    batch, q_heads, nodes, _ = q.shape
    kv_heads, prefix_cap = k.shape[1], k.shape[2] - nodes
    out = torch.zeros(q.shape, dtype=torch.float64)
    for b in range(batch):
        for head in range(q_heads):
            kv_head = head // (q_heads // kv_heads)
            for node in range(nodes):
                seen = list(range(int(prefix_len[b])))
                seen += [prefix_cap + j for j in range(nodes) if tree_mask[b, node, j]]
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
}
DTYPES = pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
TOLERANCE = {torch.float32: {"atol": 2e-5, "rtol": 1e-4}, torch.bfloat16: {"atol": 2e-2, "rtol": 2e-2}}


@DTYPES
@pytest.mark.parametrize("name", CASES)
def test_reference_matches_naive_loop(name, dtype):
    q, k, v, prefix_len, mask = CASES[name].inputs(dtype, torch.device("cpu"))
    scale = CASES[name].head_dim**-0.5
    got = tree_attention_reference(q, k, v, prefix_len, mask, scale)
    assert got.dtype == dtype and got.shape == q.shape
    torch.testing.assert_close(got.double(), naive_tree_attention(q, k, v, prefix_len, mask, scale), **TOLERANCE[dtype])


@pytest.mark.parametrize("chunk_size", [None, 16])  # None: one chunk on CPU; 16: several chunks to merge
@DTYPES
@pytest.mark.parametrize("name", CASES)
def test_triton_matches_reference(name, dtype, chunk_size, device):
    q, k, v, prefix_len, mask = CASES[name].inputs(dtype, device)
    scale = CASES[name].head_dim**-0.5
    got = tree_attention(q, k, v, prefix_len, mask, scale, backend="triton", chunk_size=chunk_size)
    assert got.dtype == dtype and got.shape == q.shape
    torch.testing.assert_close(got, tree_attention_reference(q, k, v, prefix_len, mask, scale), **TOLERANCE[dtype])


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
    mask = tree_attention_mask(torch.tensor([2, 0]), torch.ones(2, 2, 2, dtype=torch.bool).tril(), prefix_cap=3)
    assert mask.shape == (2, 1, 2, 5)
    assert mask[0, 0].tolist() == [[True, True, False, True, False], [True, True, False, True, True]]
    assert mask[1, 0].tolist() == [[False, False, False, True, False], [False, False, False, True, True]]


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
    ],
    ids=["P4k-T64-gqa4", "ragged-T16-wide", "fp16-D64-T33", "fp32-mha-T128"],
)
def test_triton_matches_reference_large(case, dtype, gpu):
    q, k, v, prefix_len, mask = case.inputs(dtype, gpu)
    scale = case.head_dim**-0.5
    got = tree_attention(q, k, v, prefix_len, mask, scale, backend="triton")
    torch.testing.assert_close(got, tree_attention_reference(q, k, v, prefix_len, mask, scale), atol=2e-2, rtol=2e-2)
