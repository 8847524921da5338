"""Tree attention: the T nodes of a draft tree attend to a cached prefix and to their tree ancestors.

Key layout: keys [0, prefix_len[b]) are the prefix every node sees; keys [tree_start, tree_start + S) are the
tree block, each node seeing the ones ``tree_mask`` [B, T, S] allows (the nodes themselves, and in the engine
also earlier scratch slots: accepted tokens of the node's own suggestion); every other key is invisible and
never loaded (padding of a ragged prefix, and the engine's document slots after the cursor). By default the
tree block is the last T keys (S = T, tree_start = P), the layout of DESIGN.md's signature.

Algorithm (flash-decoding split-K, then a tree block that merges the splits):
  Per kv head, the G = Hq/Hkv query heads of its GQA group and the T tree nodes fold into M = G*T query rows,
  so one K/V tile serves every head that shares it.
  Pass 1 (grid: row blocks x prefix chunks x B*Hkv). The prefix is cut into chunks of CHUNK keys. A program
    streams its chunk's K/V in BLOCK_N tiles, with no mask but the ragged bound n < prefix_len[b] (padding
    keys are never loaded), and runs an online softmax per row: running max m, running sum l, fp32
    accumulator acc rescaled by 2^(m_old - m_new) whenever the max grows. It writes the chunk's partial
    (o = acc / l, lse = m + log2 l) to fp32 scratch.
  Pass 2 (grid: row blocks x B*Hkv). A program attends its rows to the S tree-block keys under tree_mask, then
    folds in every chunk's partial with the log-sum-exp merge
        m' = max(m, lse_c),  acc = acc 2^(m - m') + o_c 2^(lse_c - m'),  l = l 2^(m - m') + 2^(lse_c - m')
    and writes acc / l in q's dtype. Logits are kept in base 2 (scale * log2 e) so every exponential is exp2.
Memory traffic it aims for: each valid prefix K/V byte read once from HBM (row blocks of one chunk are
  neighbours in the grid, so when M > BLOCK_M the other row blocks find the tile in L2); Q and the tree keys
  are a few KB; the scratch costs M*(D+1)*4 bytes per chunk written and read once, kept small beside the
  chunk's K/V (CHUNK*D*2 elements) by choosing CHUNK >= 4*M. With T = 1 this is flash-decoding. The hidden keys
  between the prefix and the tree block cost nothing: no tile covers them. A head dim D that is not a power of
  two is padded to BLOCK_D in registers (masked loads), never in memory.
"""

from __future__ import annotations

import torch
from torch import Tensor

from kvcomplete.kernels._triton import autotune, dot_in_fp32, jit, sm_count, tl, use_triton

LOG2E = 1.4426950408889634
MAX_HEAD_DIM = 256  # the Triton path's largest head dim (a [BLOCK_M, D] fp32 accumulator lives in registers)
_CHUNK_ALIGN = 128  # default chunks are whole BLOCK_N tiles for every tuned config
# (BLOCK_M, BLOCK_N, num_warps, num_stages) for Hopper; the autotuner skips a config that runs out of registers or
# shared memory (the largest tiles at D = 256). Tuned per power-of-two bucket of M, so each tree size does not retune.
_GPU_CONFIGS = [
    ({"BLOCK_M": m, "BLOCK_N": n}, warps, stages)
    for m, n, warps, stages in [(16, 128, 4, 3), (64, 64, 4, 3), (64, 128, 4, 3), (128, 64, 8, 3), (128, 128, 8, 2)]
]


@jit
def _dot(a, b, DOT_F32: tl.constexpr):
    """a @ b with fp32 accumulation; fp32 operands in IEEE precision when DOT_F32 (see dot_in_fp32)."""
    if DOT_F32:
        return tl.dot(a.to(tl.float32), b.to(tl.float32), input_precision="ieee")
    return tl.dot(a, b)


@jit
def _load_rows(base, row_offsets, row_ok, feature_ok):
    """Rows of D contiguous elements starting at ``base + row_offsets`` [BLOCK] -> [BLOCK, BLOCK_D]; zeros where
    not ``row_ok`` [BLOCK] and where not ``feature_ok`` [BLOCK_D] (the padding features [D, BLOCK_D))."""
    dims = tl.arange(0, feature_ok.shape[0])
    return tl.load(base + row_offsets[:, None] + dims[None, :], mask=row_ok[:, None] & feature_ok[None, :], other=0.0)


@jit
def _attend(acc, m_i, l_i, q_tile, k_tile, v_tile, visible, qk_scale, DOT_F32: tl.constexpr):
    """Online-softmax step: fold the keys k_tile/v_tile [BLOCK_N, D] (visible: [BLOCK_M, BLOCK_N]) into the
    running (acc [BLOCK_M, D], max m_i, sum l_i) of the rows q_tile [BLOCK_M, D]."""
    s = _dot(q_tile, tl.trans(k_tile), DOT_F32) * qk_scale
    s = tl.where(visible, s, float("-inf"))
    m_new = tl.maximum(m_i, tl.max(s, 1))
    alpha = tl.exp2(m_i - m_new)
    p = tl.exp2(s - m_new[:, None])
    l_i = l_i * alpha + tl.sum(p, 1)
    acc = acc * alpha[:, None] + _dot(p.to(v_tile.dtype), v_tile, DOT_F32)
    return acc, m_new, l_i


@autotune(_GPU_CONFIGS, {"BLOCK_M": 32, "BLOCK_N": 32}, key=["rows_bucket", "HEAD_DIM", "DOT_F32", "MERGE"])
@jit
def _tree_attention_kernel(
    q, k, v, prefix_len, tree_mask, part_out, part_lse, out, qk_scale,
    stride_qb, stride_qh, stride_qt, stride_kb, stride_kh, stride_kn, stride_vb, stride_vh, stride_vn,
    stride_mb, stride_mi, stride_ob, stride_oh, stride_ot,
    kv_heads, nodes, group, m_rows, rows_bucket, prefix_cap, tree_start, tree_keys, chunk_size, n_chunks,
    HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, MERGE: tl.constexpr, DOT_F32: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
):  # fmt: skip
    """MERGE=False: pass 1, one prefix chunk -> partial (o, lse). MERGE=True: pass 2, tree block + merge -> out.

    Row r of kv head h is query head h*group + r // nodes at tree node r % nodes. Last dims are contiguous.
    Prefix keys are [0, min(prefix_len[b], prefix_cap)); the tree block is keys [tree_start, tree_start + tree_keys).
    rows_bucket (m_rows rounded up to a power of two) is only the autotuning key.
    """
    row_block, chunk, bh = tl.program_id(0), tl.program_id(1), tl.program_id(2).to(tl.int64)
    b, kv_head = bh // kv_heads, bh % kv_heads
    rows = row_block * BLOCK_M + tl.arange(0, BLOCK_M)
    features = tl.arange(0, BLOCK_D)
    feature_ok = features < HEAD_DIM  # D padded to a power of two: constant true when BLOCK_D == D
    head, node, row_ok = kv_head * group + rows // nodes, rows % nodes, rows < m_rows
    q_tile = _load_rows(q + b * stride_qb, head * stride_qh + node * stride_qt, row_ok, feature_ok)
    k_head, v_head = k + b * stride_kb + kv_head * stride_kh, v + b * stride_vb + kv_head * stride_vh
    valid = tl.maximum(tl.minimum(tl.load(prefix_len + b), prefix_cap), 0)  # keys >= valid are padding
    scratch = (bh * n_chunks + chunk) * m_rows + rows  # [BLOCK_M]: this chunk's rows in part_lse
    acc = tl.zeros([BLOCK_M, BLOCK_D], dtype=tl.float32)
    m_i = tl.full([BLOCK_M], -1.0e30, dtype=tl.float32)  # finite: a fully masked tile then gives p = 0, not NaN
    l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
    if MERGE:
        for start in range(0, tree_keys, BLOCK_N):
            cols = start + tl.arange(0, BLOCK_N)
            k_tile = _load_rows(k_head, (tree_start + cols) * stride_kn, cols < tree_keys, feature_ok)
            v_tile = _load_rows(v_head, (tree_start + cols) * stride_vn, cols < tree_keys, feature_ok)
            sees = row_ok[:, None] & (cols < tree_keys)[None, :]
            visible = tl.load(tree_mask + b * stride_mb + node[:, None] * stride_mi + cols[None, :], mask=sees, other=0)
            acc, m_i, l_i = _attend(acc, m_i, l_i, q_tile, k_tile, v_tile, visible != 0, qk_scale, DOT_F32)
        for c in range(0, tl.cdiv(valid, chunk_size)):
            lse_c = tl.load(part_lse + scratch + c * m_rows, mask=row_ok, other=float("-inf"))
            o_c = _load_rows(part_out, (scratch + c * m_rows) * HEAD_DIM, row_ok, feature_ok)
            m_new = tl.maximum(m_i, lse_c)
            alpha, beta = tl.exp2(m_i - m_new), tl.exp2(lse_c - m_new)
            acc = acc * alpha[:, None] + o_c * beta[:, None]
            l_i = l_i * alpha + beta
            m_i = m_new
        o_ptrs = out + b * stride_ob + (head * stride_oh + node * stride_ot)[:, None] + features[None, :]
        o_tile = acc / tl.where(l_i > 0, l_i, 1.0)[:, None]  # a row that sees no key gets zeros
        tl.store(o_ptrs, o_tile.to(out.dtype.element_ty), mask=row_ok[:, None] & feature_ok[None, :])
    elif chunk * chunk_size < valid:  # a chunk wholly in the padding writes nothing; pass 2 never reads it
        end = tl.minimum(chunk * chunk_size + chunk_size, valid)
        for start in range(chunk * chunk_size, end, BLOCK_N):
            cols = start + tl.arange(0, BLOCK_N)
            k_tile = _load_rows(k_head, cols * stride_kn, cols < end, feature_ok)
            v_tile = _load_rows(v_head, cols * stride_vn, cols < end, feature_ok)
            acc, m_i, l_i = _attend(acc, m_i, l_i, q_tile, k_tile, v_tile, (cols < end)[None, :], qk_scale, DOT_F32)
        o_ptrs = part_out + scratch[:, None] * HEAD_DIM + features[None, :]
        tl.store(o_ptrs, acc / tl.where(l_i > 0, l_i, 1.0)[:, None], mask=row_ok[:, None] & feature_ok[None, :])
        tl.store(part_lse + scratch, m_i + tl.log2(l_i), mask=row_ok)


def tree_attention_mask(prefix_len: Tensor, tree_mask: Tensor, tree_start: int, keys: int | None = None) -> Tensor:
    """The boolean mask [B, 1, T, keys] of tree attention (for SDPA and the reference): key n is visible to node
    i when n < min(prefix_len[b], tree_start) (the ragged prefix), or n = tree_start + j with tree_mask[b, i, j]
    (tree_mask: [B, T, S]). keys defaults to tree_start + S."""
    batch, nodes, tree_keys = tree_mask.shape
    keys = tree_start + tree_keys if keys is None else keys
    slots = torch.arange(keys, device=tree_mask.device)
    prefix = (slots < prefix_len.to(tree_mask.device)[:, None]) & (slots < tree_start)  # [B, keys]
    mask = prefix[:, None, :].expand(batch, nodes, keys).clone()
    mask[:, :, tree_start : tree_start + tree_keys] |= tree_mask
    return mask[:, None]


def tree_attention_reference(
    q: Tensor, k: Tensor, v: Tensor, prefix_len: Tensor, tree_mask: Tensor, scale: float,
    *, tree_start: int | None = None,
) -> Tensor:  # fmt: skip
    """Tree attention in plain PyTorch, fp32 masked softmax: the test oracle (and the CPU path of ``auto``).

    Shapes as ``tree_attention``. The GQA group folds into the query rows ([B, Hkv, G*T, D]), so K/V are never
    repeated per query head. A node that sees no key at all gets zeros.
    """
    batch, q_heads, nodes, head_dim = _check_inputs(q, k, v, prefix_len, tree_mask)
    kv_heads, keys = k.shape[1], k.shape[2]
    tree_start = _tree_start(keys, tree_mask, tree_start)
    assert bool((prefix_len <= tree_start).all()), "prefix_len reaches into the tree block"
    group = q_heads // kv_heads
    rows = q.float().reshape(batch, kv_heads, group * nodes, head_dim)
    scores = (rows @ k.float().transpose(-1, -2)).view(batch, kv_heads, group, nodes, keys) * scale
    mask = tree_attention_mask(prefix_len, tree_mask.to(q.device), tree_start, keys)[:, None]  # [B, 1, 1, T, keys]
    probs = scores.masked_fill(~mask, float("-inf")).softmax(dim=-1).nan_to_num(0.0)
    out = probs.view(batch, kv_heads, group * nodes, keys) @ v.float()
    return out.view(batch, q_heads, nodes, head_dim).to(q.dtype)


def tree_attention(
    q: Tensor, k: Tensor, v: Tensor, prefix_len: Tensor, tree_mask: Tensor, scale: float,
    *, tree_start: int | None = None, max_prefix_len: int | None = None, backend: str = "auto",
    chunk_size: int | None = None,
) -> Tensor:  # fmt: skip
    """Attention of the T tree nodes to their ragged cached prefix and to the tree-block keys ``tree_mask`` allows.

    q: [B, Hq, T, D]; k, v: [B, Hkv, K, D]; prefix_len: [B] integer; tree_mask: [B, T, S] bool (node i sees key
    tree_start + j). Keys [0, prefix_len[b]) are the prefix, keys [tree_start, tree_start + S) the tree block
    (default tree_start = K - S: with S = T and K = P + T, the T nodes after P prefix slots), any other key is
    invisible. prefix_len[b] <= max_prefix_len <= tree_start (default tree_start): a bound known on the host that
    sizes the prefix split. Hq is a multiple of Hkv (GQA). -> [B, Hq, T, D] in q's dtype, fp32 accumulation.
    backend: "auto" (Triton on CUDA, the reference elsewhere), "triton" (also CPU tensors under TRITON_INTERPRET=1)
    or "reference". chunk_size: prefix keys per pass-1 program (default: fill the GPU); set it to test or tune.
    """
    if not use_triton(backend, q, k, v):
        return tree_attention_reference(q, k, v, prefix_len, tree_mask, scale, tree_start=tree_start)
    batch, q_heads, nodes, head_dim = _check_inputs(q, k, v, prefix_len, tree_mask)
    assert head_dim <= MAX_HEAD_DIM, f"the Triton path takes D <= {MAX_HEAD_DIM}, got {head_dim}"
    assert q.stride(-1) == k.stride(-1) == v.stride(-1) == 1, "the Triton path needs the last dim contiguous"
    assert tree_mask.stride(-1) == 1, "tree_mask's last dim must be contiguous"
    kv_heads, tree_keys = k.shape[1], tree_mask.shape[2]
    tree_start = _tree_start(k.shape[2], tree_mask, tree_start)
    prefix_cap = tree_start if max_prefix_len is None else max_prefix_len
    assert 0 <= prefix_cap <= tree_start, f"max_prefix_len {prefix_cap} must lie in [0, tree_start={tree_start}]"
    group = q_heads // kv_heads
    m_rows = group * nodes
    if chunk_size is None:
        chunk_size = _default_chunk_size(prefix_cap, m_rows, batch * kv_heads, q.device)
    assert chunk_size > 0, "chunk_size must be positive"
    n_chunks = -(-prefix_cap // chunk_size)
    out = torch.empty(q.shape, dtype=q.dtype, device=q.device)
    part_out = torch.empty((batch * kv_heads, max(n_chunks, 1), m_rows, head_dim), dtype=torch.float32, device=q.device)
    part_lse = torch.empty(part_out.shape[:-1], dtype=torch.float32, device=q.device)
    tree_bytes = tree_mask.to(q.device).view(torch.uint8)
    args = (
        q, k, v, prefix_len.to(device=q.device, dtype=torch.int32), tree_bytes, part_out, part_lse, out,
        scale * LOG2E, *q.stride()[:3], *k.stride()[:3], *v.stride()[:3], *tree_bytes.stride()[:2], *out.stride()[:3],
        kv_heads, nodes, group, m_rows, 1 << (m_rows - 1).bit_length(), prefix_cap, tree_start, tree_keys,
        chunk_size, n_chunks,
    )  # fmt: skip
    constants = {"HEAD_DIM": head_dim, "BLOCK_D": max(16, 1 << (head_dim - 1).bit_length()),
                 "DOT_F32": dot_in_fp32(q.dtype)}  # fmt: skip
    if n_chunks:
        grid = lambda meta: (-(-m_rows // meta["BLOCK_M"]), n_chunks, batch * kv_heads)  # noqa: E731
        _tree_attention_kernel[grid](*args, MERGE=False, **constants)
    grid = lambda meta: (-(-m_rows // meta["BLOCK_M"]), 1, batch * kv_heads)  # noqa: E731
    _tree_attention_kernel[grid](*args, MERGE=True, **constants)
    return out


def _check_inputs(q, k, v, prefix_len, tree_mask) -> tuple[int, int, int, int]:
    """Assert the shapes of ``tree_attention``'s inputs; returns (B, Hq, T, D)."""
    assert q.dim() == 4 and k.dim() == 4 and k.shape == v.shape, "q: [B, Hq, T, D], k and v: [B, Hkv, K, D]"
    batch, q_heads, nodes, head_dim = q.shape
    assert k.shape[0] == batch and k.shape[3] == head_dim, f"q {q.shape} vs k {k.shape}"
    assert q_heads % k.shape[1] == 0, f"query heads ({q_heads}) must be a multiple of kv heads ({k.shape[1]})"
    assert prefix_len.shape == (batch,) and not prefix_len.is_floating_point(), "prefix_len: [B] integer"
    assert tree_mask.dim() == 3 and tree_mask.shape[:2] == (batch, nodes), "tree_mask: [B, T, S]"
    assert tree_mask.dtype == torch.bool, "tree_mask must be bool"
    assert q.dtype == k.dtype == v.dtype, "q, k and v share one dtype"
    return batch, q_heads, nodes, head_dim


def _tree_start(keys: int, tree_mask: Tensor, tree_start: int | None) -> int:
    """The first key of the tree block (default: the last S keys), checked to leave the block inside k/v."""
    tree_keys = tree_mask.shape[2]
    start = keys - tree_keys if tree_start is None else tree_start
    assert 0 <= start and start + tree_keys <= keys, f"tree block [{start}, {start + tree_keys}) outside {keys} keys"
    return start


def _default_chunk_size(prefix_cap: int, m_rows: int, kv_rows: int, device: torch.device) -> int:
    """Prefix keys per pass-1 program: enough chunks for ~2 programs per SM, each at least 4*M keys long so the
    fp32 partials stay well below the chunk's K/V bytes (one chunk on CPU, where the interpreter runs)."""
    programs_per_chunk = kv_rows * max(1, m_rows // 64)
    wanted = max(1, 2 * sm_count(device) // programs_per_chunk) if device.type == "cuda" else 1
    chunk = max(-(-prefix_cap // wanted), 4 * m_rows, 256)
    return -(-chunk // _CHUNK_ALIGN) * _CHUNK_ALIGN


__all__ = ["MAX_HEAD_DIM", "tree_attention", "tree_attention_mask", "tree_attention_reference"]
