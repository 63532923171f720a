"""What the trace store answers: filters in, typed results out (issue 5, DESIGN 2.5).

The shapes follow the ongoingai gateway's own analytics types (seed 004), named the
Python way. All are frozen msgspec Structs so the CLI prints them with
``msgspec.to_builtins`` and the Traces screen reads the same objects: the screen adds
nothing to the numbers.

Times are timezone-aware UTC ``datetime`` values. Costs are USD floats rounded to
1e-9 (float sums depend on summation order, which differs between SQLite and
PostgreSQL in the last bits; nine decimals is far below any price's precision and
makes both backends print the same number).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from tokentop.store.traces.timefmt import Instant

GroupBy = Literal["none", "provider", "model", "route", "key"]
Bucket = Literal["hour", "day", "week"]

SERIES_GROUPS: tuple[str, ...] = ("none", "provider", "model")
BREAKDOWN_GROUPS: tuple[str, ...] = ("none", "provider", "model", "route", "key")
BUCKETS: tuple[str, ...] = ("hour", "day", "week")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
COST_DIGITS = 9


class TraceFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Filters of ``query_traces`` (the gateway's TraceFilter); ``None`` means "any".

    ``org_id``/``workspace_id`` scope to one tenant, as the gateway's API scopes a
    caller (internal/api/tenant_scope.go); each applies on its own. ``since``/``until``
    are inclusive and compare the trace's ``timestamp`` (as the gateway does); an
    :class:`Instant` keeps nanoseconds. ``cursor`` is the previous page's ``next_cursor``.

    Two filters are tokentop's own, not the gateway's (the dashboard's errors-only view
    and its search): ``min_status`` keeps rows whose status is at least that (400: every
    4xx and 5xx), ``text`` keeps rows whose id, group, provider, model, route or gateway
    key contains it, ignoring case.

    ``order`` and ``ascending`` are tokentop's too: the list by ``created`` (the
    gateway's order when descending, the default), ``latency``, ``cost`` or ``tokens``,
    across every page (store/traces/order.py). A cursor belongs to one order.
    """

    org_id: str | None = None
    workspace_id: str | None = None
    provider: str | None = None
    model: str | None = None
    status: int | None = None
    min_tokens: int | None = None
    max_tokens: int | None = None
    since: datetime | Instant | None = None
    until: datetime | Instant | None = None
    trace_group_id: str | None = None
    api_key_hash: str | None = None
    min_status: int | None = None
    text: str | None = None
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT
    order: str = "created"
    ascending: bool = False


class AnalyticsFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Filters of every analytics call (the gateway's AnalyticsFilter, tenant first)."""

    org_id: str | None = None
    workspace_id: str | None = None
    provider: str | None = None
    model: str | None = None
    gateway_key_id: str | None = None
    since: datetime | Instant | None = None
    until: datetime | Instant | None = None


class TraceRow(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the trace list: everything but headers, bodies and metadata."""

    id: str
    trace_group_id: str | None
    org_id: str
    workspace_id: str
    timestamp: datetime
    created_at: datetime | None
    provider: str
    model: str
    request_method: str
    request_path: str
    response_status: int | None
    input_tokens: int | None
    output_tokens: int | None
    total_tokens: int | None
    latency_ms: int | None
    time_to_first_token_ms: int | None
    api_key_hash: str | None
    gateway_key_id: str | None
    estimated_cost_usd: float | None


class Trace(TraceRow, frozen=True, kw_only=True):
    """One full trace row (``get_trace``): the list fields plus headers, bodies, metadata.

    Headers and metadata are JSON text as stored (PostgreSQL's JSONB is returned as
    its text form); they are untrusted and shown only as plain text.
    """

    time_to_first_token_us: int | None
    request_headers: str | None
    request_body: str | None
    response_headers: str | None
    response_body: str | None
    metadata: str | None


class TracePage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of ``query_traces``; ``next_cursor`` is None on the last page."""

    items: list[TraceRow]
    next_cursor: str | None


class UsageSummary(msgspec.Struct, frozen=True, kw_only=True):
    request_count: int
    input_tokens: int
    output_tokens: int
    total_tokens: int


class CostSummary(msgspec.Struct, frozen=True, kw_only=True):
    request_count: int
    total_cost_usd: float


class UsagePoint(msgspec.Struct, frozen=True, kw_only=True):
    """Tokens of one (bucket, group); ``group`` is "" for group_by none."""

    bucket_start: datetime
    group: str
    request_count: int
    input_tokens: int
    output_tokens: int
    total_tokens: int


class CostPoint(msgspec.Struct, frozen=True, kw_only=True):
    bucket_start: datetime
    group: str
    request_count: int
    total_cost_usd: float
    avg_cost_usd: float


class ModelStats(msgspec.Struct, frozen=True, kw_only=True):
    """Per model; averages ignore NULLs (0.0 when a model has none)."""

    model: str
    request_count: int
    avg_latency_ms: float
    avg_ttft_ms: float
    total_tokens: int
    total_cost_usd: float


class KeyStats(msgspec.Struct, frozen=True, kw_only=True):
    """Per ``api_key_hash`` (rows without one are left out, as the gateway does)."""

    api_key_hash: str
    request_count: int
    total_tokens: int
    total_cost_usd: float
    last_active_at: datetime | None


class LatencyStats(msgspec.Struct, frozen=True, kw_only=True):
    """Latency of one group over the rows whose latency is not NULL.

    ``request_count`` counts those rows only; a group whose latencies are all NULL
    is absent. Percentiles interpolate linearly at rank p*(n-1).
    """

    group: str
    request_count: int
    avg_ms: float
    min_ms: int
    max_ms: int
    p50_ms: float
    p95_ms: float
    p99_ms: float


class TenantStats(msgspec.Struct, frozen=True, kw_only=True):
    """Traces of one tenant (``org_id``, ``workspace_id``; empty reads as "default",
    as the gateway's ``nonEmptyTenant`` does). tokentop's, the gateway has no such view."""

    org_id: str
    workspace_id: str
    request_count: int


class ErrorRateStats(msgspec.Struct, frozen=True, kw_only=True):
    """Errors of one group: 4xx = 400-499, 5xx = 500-599, rate = (4xx+5xx)/total."""

    group: str
    total_requests: int
    error_count_4xx: int
    error_count_5xx: int
    error_rate: float


def tenant_name(value: str | None) -> str:
    """The gateway's ``nonEmptyTenant``: blank is "default" (internal/api/tenant_scope.go)."""
    return (value or "").strip() or "default"


def in_tenant(row: TraceRow, org_id: str | None, workspace_id: str | None) -> bool:
    """Whether a trace is visible in a scope (each of org and workspace when given)."""
    return ((not org_id or tenant_name(row.org_id) == org_id)
            and (not workspace_id or tenant_name(row.workspace_id) == workspace_id))
