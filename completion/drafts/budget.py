"""How wide a verification tree pays off, from measured forward costs and measured acceptance.

A forward's cost grows with its width in a device-specific way (flat on a GPU up to dozens of tokens,
climbing sooner on a CPU); a draft node's value is the chance it gets accepted. The tree size chosen
maximises expected tokens per millisecond: (roots + acceptance * drafts) / cost(width) (EAGLE-2 / Sequoia
in spirit, with both factors measured on this device and this user's code).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

WIDTHS = (1, 2, 4, 8, 16, 32, 64, 128)
SMOOTHING = 0.2  # weight of a new observation in the moving averages


def _bucket(width: int) -> int:
    return min(WIDTHS, key=lambda w: (abs(math.log2(w) - math.log2(max(width, 1))), w))


@dataclass(slots=True)
class SpeculationBudget:
    max_nodes: int = 64
    acceptance: float = 0.5  # moving average of accepted draft nodes / proposed draft nodes
    cost_ms: dict[int, float] = field(default_factory=dict)  # width bucket -> moving average forward ms

    def record_forward(self, width: int, milliseconds: float) -> None:
        bucket = _bucket(width)
        previous = self.cost_ms.get(bucket)
        self.cost_ms[bucket] = milliseconds if previous is None else (
            (1 - SMOOTHING) * previous + SMOOTHING * milliseconds)

    def record_acceptance(self, proposed: int, accepted: int) -> None:
        if proposed:
            self.acceptance = (1 - SMOOTHING) * self.acceptance + SMOOTHING * accepted / proposed

    def cost(self, width: int) -> float:
        """Estimated forward ms at ``width``: measured buckets, interpolated linearly between them."""
        if not self.cost_ms:
            return float(width)  # nothing measured yet: assume linear, the cautious guess
        known = sorted(self.cost_ms.items())
        below = [(w, c) for w, c in known if w <= width]
        above = [(w, c) for w, c in known if w >= width]
        if below and above:
            (w0, c0), (w1, c1) = below[-1], above[0]
            return c0 if w1 == w0 else c0 + (c1 - c0) * (width - w0) / (w1 - w0)
        (w0, c0) = below[-1] if below else above[0]
        return c0 * max(width, 1) / w0 if below else c0

    def tree_size(self, roots: int) -> int:
        """The node budget for a tree with ``roots`` roots: the width that maximises tokens per ms.

        Unmeasured wider buckets are tried once (optimism under uncertainty), so costs get measured.
        """
        best, best_rate = roots, roots / self.cost(roots)
        for width in WIDTHS:
            if width <= roots or width > self.max_nodes:
                continue
            if _bucket(width) not in self.cost_ms:
                return width
            rate = (roots + self.acceptance * (width - roots)) / self.cost(width)
            if rate > best_rate:
                best, best_rate = width, rate
        return best
