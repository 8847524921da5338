"""How many CPU threads a forward of n tokens runs on, chosen from the forwards' own measured times.

No fixed rule holds on a CPU shared with an editor: on an idle 2-core machine two threads are faster at
every width (1.1-1.5x), while under a competing load two threads are 3-10x slower than one
(docs/benchmarks/step.md). So the policy keeps, per width bucket (powers of two), a moving average of the
forward time for each candidate thread count, uses the fastest, and re-measures the others now and then
(less often while they keep losing), so a change of load is noticed within tens of forwards.

A bucket's first forward runs on the most threads, its second on the next count, and so on: the first
forwards of a fresh session are the window's encode that the first request after opening a file waits for,
and most threads are the best guess for them (idle CPU, `kvcomplete bench files`: that request took 0.76-1.41 s
against 1.30-1.96 s when it was the one-thread trial; the trial moves to a later forward of that width).

torch has only a process-wide intra-op thread count (``torch.set_num_threads``); the runner is the one
caller that sets it, and only when the chosen count differs from the current one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import torch

SMOOTHING = 0.3  # weight of a new time in the moving average: a few forwards follow a change of load
PROBE_EVERY = 32  # forwards of a bucket between re-measures of a losing thread count...
PROBE_EVERY_MAX = 512  # ...doubled each time it loses again, up to this


@functools.cache
def available_threads() -> int:
    """torch's intra-op thread count before any runner changed it (physical cores, or OMP_NUM_THREADS)."""
    return torch.get_num_threads()


def candidate_counts(available: int) -> tuple[int, ...]:
    """1, powers of two below ``available``, and ``available``: the thread counts worth comparing."""
    counts = {available}
    power = 1
    while power < available:
        counts.add(power)
        power *= 2
    return tuple(sorted(counts))


def bucket_of(tokens: int) -> int:
    """The width bucket of a forward: the next power of two (forwards in a bucket cost about the same)."""
    return 1 << max(0, tokens - 1).bit_length()


@dataclass(slots=True)
class _Bucket:
    seconds: dict[int, float] = field(default_factory=dict)  # moving average per thread count
    forwards: int = 0
    probe_every: int = PROBE_EVERY
    probing: int | None = None  # the count a re-measure is running with


class ThreadPolicy:
    """Per width bucket, the thread count whose recent forwards were fastest."""

    def __init__(self, counts: tuple[int, ...]) -> None:
        if not counts or min(counts) < 1:
            raise ValueError(f"thread counts must be at least 1, not {counts}")
        self.counts = tuple(sorted(set(counts)))
        self._buckets: dict[int, _Bucket] = {}

    @property
    def fixed(self) -> bool:
        return len(self.counts) == 1

    def threads_for(self, tokens: int) -> int:
        """The thread count for a forward of ``tokens`` tokens; its time goes back through ``record``."""
        bucket = self._buckets.setdefault(bucket_of(tokens), _Bucket())
        untried = [count for count in self.counts if count not in bucket.seconds]
        if untried:  # the most threads first: on an idle machine they are the fastest at every width
            bucket.probing = untried[-1]
            return untried[-1]
        best = min(bucket.seconds, key=bucket.seconds.__getitem__)
        bucket.probing = None
        if len(self.counts) > 1 and bucket.forwards and bucket.forwards % bucket.probe_every == 0:
            others = [count for count in self.counts if count != best]
            bucket.probing = others[(bucket.forwards // bucket.probe_every) % len(others)]
            return bucket.probing
        return best

    def record(self, tokens: int, threads: int, seconds: float) -> None:
        """The wall time of a forward of ``tokens`` tokens that ran on ``threads`` threads. A re-measure
        replaces its count's stale average; the count in use follows its forwards' moving average."""
        bucket = self._buckets.setdefault(bucket_of(tokens), _Bucket())
        bucket.forwards += 1
        previous = bucket.seconds.get(threads)
        if bucket.probing == threads or previous is None:
            if previous is not None:  # a re-measure of a losing count: probe it less often while it loses
                won = seconds < min(bucket.seconds.values())
                bucket.probe_every = PROBE_EVERY if won else min(PROBE_EVERY_MAX, bucket.probe_every * 2)
            bucket.seconds[threads] = seconds
        else:
            bucket.seconds[threads] = previous + SMOOTHING * (seconds - previous)
        bucket.probing = None

    def table(self) -> dict[int, dict[int, float]]:
        """{bucket: {threads: moving-average ms}}: what the choices rest on (for stats and benchmarks)."""
        return {width: {threads: round(s * 1000, 1) for threads, s in sorted(bucket.seconds.items())}
                for width, bucket in sorted(self._buckets.items())}
