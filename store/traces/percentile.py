"""Exact latency percentiles from a histogram of (value, count), as the gateway computes.

Both backends hand over the same thing: per group, the distinct latencies and how
often each occurs (``GROUP BY group, latency_ms``). That is far smaller than the rows
(latencies are whole milliseconds) and lets one piece of Python compute identical
numbers for SQLite and PostgreSQL. Linear interpolation at rank p*(n-1), exactly
PostgreSQL's ``percentile_cont`` and the gateway's ``percentileFromSorted``.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence


class Histogram:
    """Sorted distinct values with their counts; indexable like the sorted list."""

    def __init__(self, pairs: Sequence[tuple[int, int]]) -> None:
        ordered = sorted(pairs)
        self.values = [v for v, _ in ordered]
        self.ends: list[int] = []  # ends[i] = number of items <= values[i]
        total = 0
        weighted = 0
        for v, c in ordered:
            total += c
            weighted += v * c
            self.ends.append(total)
        self.count = total
        self.total = weighted

    def at(self, index: int) -> int:
        """The index-th item (0-based) of the sorted multiset."""
        return self.values[bisect.bisect_right(self.ends, index)]

    def percentile(self, p: float) -> float:
        n = self.count
        if n == 0:
            return 0.0
        if n == 1:
            return float(self.values[0])
        rank = p * float(n - 1)
        lower = int(rank)
        upper = lower + 1
        if upper >= n:
            return float(self.at(n - 1))
        frac = rank - float(lower)
        lo = float(self.at(lower))
        hi = float(self.at(upper))
        return lo + frac * (hi - lo)
