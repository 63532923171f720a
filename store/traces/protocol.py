"""The TraceStore interface: one set of async reads, two backends (SQLite, PostgreSQL).

The Traces screen and ``tokentop traces`` hold a ``TraceStore`` and never look at
which backend it is: both return the same numbers for the same rows (the analytics
are computed by shared code over the same aggregates, see store/traces/analytics.py).
All methods are coroutines because the screen runs them in async workers.
"""

from __future__ import annotations

from typing import Protocol

from tokentop.store.traces.model import (
    AnalyticsFilter,
    CostPoint,
    CostSummary,
    ErrorRateStats,
    KeyStats,
    LatencyStats,
    ModelStats,
    TenantStats,
    Trace,
    TraceFilter,
    TracePage,
    UsagePoint,
    UsageSummary,
)


class TraceStore(Protocol):
    """Read-only access to an ongoingai gateway's ``traces`` table."""

    backend: str
    """"sqlite" or "postgresql"."""
    display: str
    """Where it reads from, for a status line (a PostgreSQL password is masked)."""

    async def close(self) -> None: ...

    async def version(self) -> str:
        """A cheap token that changes when traces arrive: poll it, re-query on change."""
        ...

    async def query_traces(self, filter: TraceFilter) -> TracePage:
        """A page, newest first (created_at DESC, id DESC), keyset-paginated."""
        ...

    async def get_trace(self, trace_id: str) -> Trace:
        """The full row; raises TraceNotFoundError."""
        ...

    async def usage_summary(self, filter: AnalyticsFilter) -> UsageSummary: ...

    async def cost_summary(self, filter: AnalyticsFilter) -> CostSummary: ...

    async def usage_series(self, filter: AnalyticsFilter, group_by: str = "none",
                           bucket: str = "day") -> list[UsagePoint]: ...

    async def cost_series(self, filter: AnalyticsFilter, group_by: str = "none",
                          bucket: str = "day") -> list[CostPoint]: ...

    async def model_stats(self, filter: AnalyticsFilter) -> list[ModelStats]: ...

    async def key_stats(self, filter: AnalyticsFilter) -> list[KeyStats]: ...

    async def latency_percentiles(self, filter: AnalyticsFilter,
                                  group_by: str = "none") -> list[LatencyStats]: ...

    async def tenants(self, filter: AnalyticsFilter) -> list[TenantStats]:
        """Traces per (org_id, workspace_id), most first."""
        ...

    async def error_rates(self, filter: AnalyticsFilter,
                          group_by: str = "none") -> list[ErrorRateStats]: ...
