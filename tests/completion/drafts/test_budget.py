from kvcomplete.completion.drafts.budget import SpeculationBudget


def measured(costs, acceptance):
    budget = SpeculationBudget(max_nodes=64, acceptance=acceptance)
    for width, ms in costs.items():
        budget.record_forward(width, ms)
    return budget


GPU_LIKE = {1: 10, 2: 10, 4: 10, 8: 10.2, 16: 10.5, 32: 11, 64: 12}
CPU_LIKE = {1: 10, 2: 14, 4: 22, 8: 40, 16: 75, 32: 150, 64: 300}


def test_flat_cost_and_good_acceptance_make_wide_trees():
    assert measured(GPU_LIKE, 0.4).tree_size(1) == 64


def test_steep_cost_or_poor_acceptance_make_narrow_trees():
    assert measured(CPU_LIKE, 0.05).tree_size(1) == 1
    assert measured(GPU_LIKE, 0.0).tree_size(3) == 3


def test_unmeasured_widths_are_explored_once():
    budget = SpeculationBudget(max_nodes=16)
    budget.record_forward(1, 10)
    assert budget.tree_size(1) == 2
