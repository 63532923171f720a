"""The analytics computed the obvious way from the fixture's Python rows.

Tests compare the stores against these, so a broken SQL, rollup or percentile fails
on its own numbers, not only when the two backends disagree.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from gateway_db import Row

GROUP_ATTR = {"none": None, "provider": "provider", "model": "model",
              "route": "request_path", "key": "gateway_key_id"}


def select(rows: list[Row], *, provider: str | None = None, model: str | None = None,
           gateway_key_id: str | None = None, since: datetime | None = None,
           until: datetime | None = None) -> list[Row]:
    out = []
    for r in rows:
        if provider and r.provider != provider:
            continue
        if model and r.model != model:
            continue
        if gateway_key_id and r.gateway_key_id != gateway_key_id:
            continue
        if since and r.timestamp < since:
            continue
        if until and r.timestamp > until:
            continue
        out.append(r)
    return out


def group_of(r: Row, group_by: str) -> str:
    attr = GROUP_ATTR[group_by]
    return "" if attr is None else (getattr(r, attr) or "")


def bucket_of(ts: datetime, bucket: str) -> datetime:
    start = ts.replace(minute=0, second=0, microsecond=0)
    if bucket == "hour":
        return start
    start = start.replace(hour=0)
    return start if bucket == "day" else start - timedelta(days=start.weekday())


def usage_series(rows: list[Row], group_by: str, bucket: str) -> list[dict[str, Any]]:
    acc: dict[tuple[datetime, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in rows:
        a = acc[(bucket_of(r.timestamp, bucket), group_of(r, group_by))]
        a[0] += 1
        a[1] += r.input_tokens or 0
        a[2] += r.output_tokens or 0
        a[3] += r.total_tokens or 0
    return [{"bucket_start": b, "group": g, "request_count": a[0], "input_tokens": a[1],
             "output_tokens": a[2], "total_tokens": a[3]} for (b, g), a in sorted(acc.items())]


def cost_series(rows: list[Row], group_by: str, bucket: str) -> list[tuple[Any, ...]]:
    acc: dict[tuple[datetime, str], list[Any]] = defaultdict(lambda: [0, 0.0, 0])
    for r in rows:
        a = acc[(bucket_of(r.timestamp, bucket), group_of(r, group_by))]
        a[0] += 1
        if r.estimated_cost_usd is not None:
            a[1] += r.estimated_cost_usd
            a[2] += 1
    return [(b, g, a[0], round(a[1], 9), round(round(a[1], 9) / a[2], 9) if a[2] else 0.0)
            for (b, g), a in sorted(acc.items())]


def percentile(sorted_values: list[int], p: float) -> float:
    """The gateway's percentileFromSorted, on the full sorted list."""
    n = len(sorted_values)
    if n == 1:
        return float(sorted_values[0])
    rank = p * (n - 1)
    lower = int(rank)
    if lower + 1 >= n:
        return float(sorted_values[-1])
    frac = rank - lower
    lo, hi = float(sorted_values[lower]), float(sorted_values[lower + 1])
    return lo + frac * (hi - lo)


def latency(rows: list[Row], group_by: str) -> list[dict[str, Any]]:
    values: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        if r.latency_ms is not None:
            values[group_of(r, group_by)].append(r.latency_ms)
    out = []
    for g in sorted(values):
        v = sorted(values[g])
        out.append({"group": g, "request_count": len(v), "avg_ms": sum(v) / len(v),
                    "min_ms": v[0], "max_ms": v[-1], "p50_ms": percentile(v, 0.5),
                    "p95_ms": percentile(v, 0.95), "p99_ms": percentile(v, 0.99)})
    return out


def errors(rows: list[Row], group_by: str) -> list[dict[str, Any]]:
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in rows:
        a = acc[group_of(r, group_by)]
        a[0] += 1
        s = r.response_status
        if s is not None and 400 <= s <= 499:
            a[1] += 1
        if s is not None and 500 <= s <= 599:
            a[2] += 1
    out = [{"group": g, "total_requests": a[0], "error_count_4xx": a[1],
            "error_count_5xx": a[2], "error_rate": (a[1] + a[2]) / a[0]}
           for g, a in acc.items()]
    return sorted(out, key=lambda d: (-d["total_requests"], d["group"]))


def listing(rows: list[Row]) -> list[str]:
    """Ids in the list's order: created_at DESC, id DESC."""
    return [r.id for r in sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)]
