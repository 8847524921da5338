"""Drafts merged into one token trie per request step: k roots (one per suggestion) and their drafts.

Node i sits at position ``root_position[branch] + depth[i]`` and sees the whole prompt, its branch's
earlier tokens and its own ancestors (itself included). Nodes are stored parents-first, so a node's
index is always greater than its parent's: accepted paths compact into scratch in index order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import torch


@dataclass(slots=True)
class TokenTree:
    tokens: list[int] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)  # -1 for a root
    depths: list[int] = field(default_factory=list)
    branches: list[int] = field(default_factory=list)
    children: list[dict[int, int]] = field(default_factory=list)  # token -> child node index

    def __len__(self) -> int:
        return len(self.tokens)

    def add_node(self, token: int, parent: int, branch: int) -> int:
        self.tokens.append(token)
        self.parents.append(parent)
        self.depths.append(0 if parent < 0 else self.depths[parent] + 1)
        self.branches.append(branch)
        self.children.append({})
        if parent >= 0:
            self.children[parent][token] = len(self.tokens) - 1
        return len(self.tokens) - 1

    def add_path(self, root: int, tokens: Sequence[int], budget: int) -> int:
        """Merge ``tokens`` below ``root`` (sharing existing prefixes) while the tree has room; returns the
        number of new nodes."""
        node, added = root, 0
        for token in tokens:
            child = self.children[node].get(token)
            if child is None:
                if len(self) >= budget:
                    break
                child = self.add_node(token, node, self.branches[root])
                added += 1
            node = child
        return added

    def ancestor_mask(self) -> torch.Tensor:
        """[n, n] bool: node i sees node j when j is i or one of its ancestors."""
        n = len(self)
        mask = torch.eye(n, dtype=torch.bool)
        for node, parent in enumerate(self.parents):
            if parent >= 0:
                mask[node] |= mask[parent]
        return mask


def build_tree(roots: Sequence[tuple[int, int]], drafts: Sequence[Sequence[Sequence[int]]], budget: int) -> TokenTree:
    """A tree with one root per (branch, token) and each branch's drafts (best first) below it.

    Drafts are taken round-robin across branches, so every suggestion gets its best draft before any
    gets its second, until ``budget`` nodes.
    """
    tree = TokenTree()
    root_nodes = [tree.add_node(token, -1, branch) for branch, token in roots]
    for rank in range(max((len(d) for d in drafts), default=0)):
        for root, branch_drafts in zip(root_nodes, drafts):
            if rank < len(branch_drafts) and len(tree) < budget:
                tree.add_path(root, branch_drafts[rank], budget)
    return tree
