"""ThreadPolicy: the fastest measured thread count per width bucket, re-measured as the load changes."""

from __future__ import annotations

import pytest

from kvcomplete.completion.model.threads import PROBE_EVERY, ThreadPolicy, bucket_of, candidate_counts


def run(policy: ThreadPolicy, tokens: int, forwards: int, cost: dict[int, float]) -> list[int]:
    """``forwards`` forwards of ``tokens`` tokens whose time on t threads is cost[t]; the counts used."""
    used = []
    for _ in range(forwards):
        threads = policy.threads_for(tokens)
        policy.record(tokens, threads, cost[threads])
        used.append(threads)
    return used


def test_candidates_and_buckets():
    assert candidate_counts(1) == (1,)
    assert candidate_counts(2) == (1, 2)
    assert candidate_counts(6) == (1, 2, 4, 6)
    assert [bucket_of(n) for n in (1, 2, 3, 4, 5, 16, 17)] == [1, 2, 4, 4, 8, 16, 32]
    with pytest.raises(ValueError):
        ThreadPolicy(())


def test_tries_each_count_then_keeps_the_fastest():
    policy = ThreadPolicy((1, 2))
    used = run(policy, 1, PROBE_EVERY - 1, {1: 0.060, 2: 0.040})
    assert used[:2] == [2, 1] and set(used[2:]) == {2}, "the most threads first (the first encode's chunk)"
    assert policy.table() == {1: {1: 60.0, 2: 40.0}}


def test_buckets_choose_apart():
    policy = ThreadPolicy((1, 2))
    run(policy, 1, 10, {1: 0.030, 2: 0.040})
    run(policy, 16, 10, {1: 0.120, 2: 0.080})
    assert policy.threads_for(1) == 1 and policy.threads_for(12) == 2


def test_a_change_of_load_is_followed():
    """Idle: 2 threads win; a competing load makes them 10x slower; the load goes away again."""
    policy = ThreadPolicy((1, 2))
    idle, busy = {1: 0.060, 2: 0.040}, {1: 0.070, 2: 0.400}
    run(policy, 1, 20, idle)
    assert run(policy, 1, 10, busy)[-1] == 1, "the moving average of 2 threads rises past 1 thread's"
    used = run(policy, 1, 4 * PROBE_EVERY, idle)
    assert used[-1] == 2, "a re-measure notices that 2 threads are fast again"


def test_a_losing_count_is_measured_less_and_less_often():
    policy = ThreadPolicy((1, 2))
    used = run(policy, 1, 20 * PROBE_EVERY, {1: 0.030, 2: 0.300})
    probes = used[2:].count(2)
    assert 1 <= probes <= 5, probes  # 32, 64, 128, 256, 512 apart: not every 32 forwards (that would be 19)


def test_one_count_is_fixed():
    policy = ThreadPolicy((1,))
    assert policy.fixed and set(run(policy, 8, 50, {1: 0.1})) == {1}
