import torch

from kvcomplete.completion.decoding.tree import build_tree


def test_drafts_merge_into_a_trie_under_a_budget():
    tree = build_tree([(0, 10), (1, 20)], [[[1, 2, 3], [1, 2, 4], [5]], [[6, 7]]], budget=8)
    assert tree.tokens[:2] == [10, 20]
    assert len(tree) == 8
    # [1, 2] is shared by the first two drafts of branch 0
    one = tree.children[0][1]
    assert set(tree.children[tree.children[one][2]]) == {3, 4}
    assert all(tree.parents[i] < i for i in range(len(tree)))
    assert tree.depths[tree.children[0][1]] == 1


def test_ancestor_mask_sees_ancestors_and_self_only():
    tree = build_tree([(0, 10)], [[[1, 2], [3]]], budget=10)
    mask = tree.ancestor_mask()
    two = tree.children[tree.children[0][1]][2]
    three = tree.children[0][3]
    assert mask[two].nonzero().flatten().tolist() == sorted([0, tree.children[0][1], two])
    assert not mask[three, two] and not mask[two, three]
    assert torch.equal(mask.diagonal(), torch.ones(len(tree), dtype=torch.bool))
