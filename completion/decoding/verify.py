"""Verification: which of a tree's draft tokens the model confirms, by the greedy acceptance rule.

Rule: start at the branch's root; the model's own next token there (argmax, or the healing-constrained
argmax) is taken; if that token is a child in the tree, its node's logits were computed with exactly the
context greedy decoding would have, so move there and repeat. The last token taken is the bonus token whose
K/V is not computed yet. The branch therefore grows exactly as plain greedy decoding would, whatever the
drafts were: they only decide how many tokens one forward confirms.
"""

from __future__ import annotations

from typing import Callable

import torch

from kvcomplete.completion.decoding.tree import TokenTree


def accept_path(tree: TokenTree, root: int, logprobs: torch.Tensor, branch,
                choose: Callable[[torch.Tensor, object], int],
                extend: Callable[[object, int, float], None]) -> list[int]:
    """Extend ``branch`` by the accepted tokens from ``root``; returns the tree nodes on the accepted path,
    root included (their K/V is kept). ``choose(logprobs_row, branch)`` is the model's token at a node and
    ``extend(branch, token, logprob)`` appends it (and may finish the branch)."""
    path, node = [root], root
    while not branch.done:
        token = choose(logprobs[node], branch)
        extend(branch, token, float(logprobs[node, token]))
        child = tree.children[node].get(token)
        if child is None or branch.done:
            break
        path.append(child)
        node = child
    return path
