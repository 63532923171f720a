"""The current values the alert rules look at, read from where they live.

Each reader takes the rule keys that have a threshold (``wanted``) and reads only what
those need: a dashboard with only ``cost-per-day`` set does not walk the 5-hour blocks.
The readers are the ones the Usage and Traces screens use (``store.usage.read``,
``TraceStore``), so an alert and the screen it points at show the same number.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from tokentop.store.alerts.rules import Figure

if TYPE_CHECKING:
    from tokentop.store.events.tracker import SourceStats
    from tokentop.store.traces.protocol import TraceStore

USAGE_RULES = frozenset({"cost-per-day", "cost-per-block", "burn-rate", "quota-percent",
                         "quota-hours-to-full"})
TRACE_RULES = frozenset({"error-rate", "p95-latency"})
EVENT_RULES = frozenset({"drop-rate"})
TRACE_WINDOW = timedelta(hours=1)
# Fewer gateway requests than this in the window say nothing about its health: one
# failed request of two is not a 50 % error rate worth a bell.
MIN_REQUESTS = 10


def local_midnight(now: datetime, tz: tzinfo | None = None) -> datetime:
    """The start of ``now``'s calendar day where the user is (``tz``; None: the
    system's zone), in UTC."""
    local = now.astimezone(tz) if tz is not None else now.astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def usage_figures(conn: sqlite3.Connection, now: datetime, wanted: Collection[str],
                  tz: tzinfo | None = None) -> list[Figure]:
    """Spend today, in the 5-hour block and over the last hour, and every quota of the
    latest limit snapshots: the figures of the wanted usage rules."""
    from tokentop.store.usage.read import burn_rate, current_block, quotas, spend, uses_rollup

    now = now.astimezone(UTC)
    rolled = uses_rollup(conn)
    out: list[Figure] = []
    if "cost-per-day" in wanted:
        today = spend(conn, local_midnight(now, tz), now + timedelta(seconds=1), rolled=rolled)
        out.append(Figure("cost-per-day", today.cost))
    if "cost-per-block" in wanted:
        block = current_block(conn, now, rolled=rolled)
        out.append(Figure("cost-per-block", block.cost if block is not None else 0.0))
    if "burn-rate" in wanted:
        out.append(Figure("burn-rate", burn_rate(conn, now, rolled=rolled).cost_per_hour))
    if {"quota-percent", "quota-hours-to-full"} & set(wanted):
        for quota in quotas(conn):
            subject = " ".join(p for p in (quota.provider, quota.account, quota.metric) if p)
            if quota.limit > 0:
                out.append(Figure("quota-percent", 100.0 * quota.fraction, subject))
            if quota.full_at is not None:
                hours = max(0.0, (quota.full_at - now).total_seconds() / 3600)
                out.append(Figure("quota-hours-to-full", hours, subject))
    return out


def read_store_figures(path: Path, now: datetime, wanted: Collection[str],
                       tz: tzinfo | None = None) -> list[Figure]:
    """``usage_figures`` through a read-only connection opened for this look (a thread
    worker's: a connection stays in the thread that made it). No store yet: nothing
    collected, nothing spent, no figures. Raises ``UsageStoreError`` or
    ``sqlite3.Error`` for a store that cannot be read."""
    from tokentop.store.usage.db import UsageStore

    if not USAGE_RULES & set(wanted) or not path.exists():
        return []
    with UsageStore.open(path, read_only=True, busy_timeout_ms=1000) as store:
        return usage_figures(store.conn, now, wanted, tz)


async def trace_figures(store: TraceStore, now: datetime, wanted: Collection[str],
                        org_id: str | None = None,
                        workspace_id: str | None = None) -> list[Figure]:
    """The gateway's error rate and p95 latency over the last hour (``TRACE_WINDOW``),
    when it served at least ``MIN_REQUESTS`` requests."""
    from tokentop.store.traces.model import AnalyticsFilter

    flt = AnalyticsFilter(org_id=org_id, workspace_id=workspace_id,
                          since=now - TRACE_WINDOW, until=now)
    out: list[Figure] = []
    if "error-rate" in wanted:
        rates = await store.error_rates(flt)
        if rates and rates[0].total_requests >= MIN_REQUESTS:
            out.append(Figure("error-rate", 100.0 * rates[0].error_rate))
    if "p95-latency" in wanted:
        latency = await store.latency_percentiles(flt)
        if latency and latency[0].request_count >= MIN_REQUESTS:
            out.append(Figure("p95-latency", latency[0].p95_ms))
    return out


def event_figures(stats: SourceStats, wanted: Collection[str]) -> list[Figure]:
    """The share of the event stream lost since the source started: gaps in seq and
    the events of a restarted server that were gone before they were read."""
    if "drop-rate" not in wanted:
        return []
    lost = stats.upstream_dropped + stats.restart_lost
    seen = stats.received + lost
    if seen == 0:
        return []
    return [Figure("drop-rate", 100.0 * lost / seen)]
