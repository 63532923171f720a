"""Gateway trace stores (ongoingai, seed 004): SQLite and PostgreSQL, read-only.

``open_trace_store(target)`` picks the backend from the target (a file path or a
``postgresql://`` URL) and returns a :class:`TraceStore`; the analytics are the same
on both. ``load_diagnostics(target)`` reads the gateway's trace-pipeline diagnostics.
"""

from tokentop.store.traces.errors import InvalidCursorError, TraceNotFoundError, TraceStoreError
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
    TraceRow,
    UsagePoint,
    UsageSummary,
    in_tenant,
    tenant_name,
)
from tokentop.store.traces.open import open_trace_store
from tokentop.store.traces.protocol import TraceStore
from tokentop.store.traces.timefmt import Instant

__all__ = [
    "AnalyticsFilter",
    "CostPoint",
    "CostSummary",
    "ErrorRateStats",
    "Instant",
    "InvalidCursorError",
    "KeyStats",
    "LatencyStats",
    "ModelStats",
    "TenantStats",
    "Trace",
    "TraceFilter",
    "TraceNotFoundError",
    "TracePage",
    "TraceRow",
    "TraceStore",
    "TraceStoreError",
    "UsagePoint",
    "UsageSummary",
    "in_tenant",
    "open_trace_store",
    "tenant_name",
]
