"""The chart ranges: their names, lengths and bucket sizes.

A module of its own, outside ``tokentop.store.metrics``, because every command line
offers the names (``--range``) and importing the metrics package for them cost every
``tokentop`` run ~38 ms of replay machinery it never used.
"""

from __future__ import annotations

RANGES: dict[str, tuple[int, int]] = {
    # name: (length in minutes, bucket in minutes)
    "30m": (30, 1),
    "1h": (60, 1),
    "6h": (6 * 60, 1),
    "24h": (24 * 60, 60),
    "7d": (7 * 24 * 60, 60),
}
RANGE_NAMES = (*RANGES, "all")
