"""What both backends share: the SQL of every query and the arithmetic after it.

A backend supplies how to run a query (``_fetch``) and how it writes times and days:
an hour bucket of ``timestamp`` (``_hour_sql``), a time bound for comparison with a
column (``_bind_time``), the keyset cursor's bound (``_cursor_bound``) and the rest of
store/traces/backend.py. Everything else (filters, grouping, sums, averages,
percentiles, rounding, sorting) is here, once, which is why the same rows give the
same numbers on SQLite and PostgreSQL:

- SQL only aggregates exact integers (counts, token and latency sums) and per-hour
  float cost sums; day and week buckets are rolled up from hours here.
- Averages are integer sum / count in Python; percentiles come from a histogram
  (store/traces/percentile.py); costs are rounded to 1e-9 USD.
- Sorting is done here (SQLite's binary collation and a PostgreSQL locale would
  order names differently).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from tokentop.store.traces.backend import TraceBackend
from tokentop.store.traces.cursor import decode_cursor, encode_cursor
from tokentop.store.traces.errors import TraceStoreError
from tokentop.store.traces.groups import breakdown_group, bucket_word, series_group
from tokentop.store.traces.latency_cache import LatencyCache
from tokentop.store.traces.model import (
    COST_DIGITS,
    DEFAULT_LIMIT,
    MAX_LIMIT,
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
    tenant_name,
)
from tokentop.store.traces.numbers import as_float, as_int
from tokentop.store.traces.order import (
    after_sql,
    check_order,
    decode_sort_cursor,
    encode_sort_cursor,
    is_gateway_order,
    order_sql,
)
from tokentop.store.traces.percentile import Histogram
from tokentop.store.traces.timefmt import Instant, floor_bucket, to_utc

# The columns of the schema (DESIGN 2.5); a table without them is not a gateway's.
REQUIRED_COLUMNS = frozenset({
    "id", "trace_group_id", "org_id", "workspace_id", "timestamp", "provider", "model",
    "request_method", "request_path", "request_headers", "request_body",
    "response_status", "response_headers", "response_body", "input_tokens",
    "output_tokens", "total_tokens", "latency_ms", "time_to_first_token_ms",
    "time_to_first_token_us", "api_key_hash", "estimated_cost_usd", "metadata",
    "created_at", "gateway_key_id",
})

ROW_FIELDS = (
    "id", "trace_group_id", "org_id", "workspace_id", "timestamp", "created_at",
    "provider", "model", "request_method", "request_path", "response_status",
    "input_tokens", "output_tokens", "total_tokens", "latency_ms",
    "time_to_first_token_ms", "api_key_hash", "gateway_key_id", "estimated_cost_usd",
)
DETAIL_FIELDS = ("time_to_first_token_us", "request_headers", "request_body",
                 "response_headers", "response_body", "metadata")
TIME_FIELDS = frozenset({"timestamp", "created_at"})
_CREATED_AT = ROW_FIELDS.index("created_at")
_TIMESTAMP = ROW_FIELDS.index("timestamp")
JSON_FIELDS = frozenset({"request_headers", "response_headers", "metadata"})


def round_cost(value: float | None) -> float:
    return round(float(value or 0.0), COST_DIGITS)


def _num(value: Any) -> int:
    """An integer aggregate (PostgreSQL returns SUM(bigint) as Decimal)."""
    return int(value or 0)


def _clamp_limit(limit: int | None) -> int:
    if not limit or limit <= 0:
        return DEFAULT_LIMIT
    return min(limit, MAX_LIMIT)


class BaseTraceStore(TraceBackend):
    """The shared half of a TraceStore (see the module docstring)."""

    backend = ""
    display = ""
    latency_cache: LatencyCache | None = None

    async def close(self) -> None:
        if self.latency_cache is not None:
            await self.latency_cache.close()
        await self._close()

    async def _latency_histogram(self, group_sql: str, ungrouped: bool, where: str,
                                 args: list[Any]) -> list[Sequence[Any]]:
        """(group, latency_ms, count) of the rows matching ``where``.

        One GROUP BY on both backends. On SQLite it is a scan plus a sort (no hash
        aggregate); counting 1M rows in Python instead measured no faster under load,
        and would hold the GIL the UI thread needs while SQLite's sort releases it.
        """
        group_by_sql = "2" if ungrouped else "1, 2"
        return await self._fetch(
            f"SELECT {group_sql} AS g, latency_ms, COUNT(*) FROM traces "
            f"WHERE {where} GROUP BY {group_by_sql}", args)

    # -- the trace list --------------------------------------------------------------

    async def query_traces(self, filter: TraceFilter) -> TracePage:
        """The gateway's ``QueryTraces``: its filters in its order, its keyset shape."""
        limit = _clamp_limit(filter.limit)
        conds: list[str] = []
        args: list[Any] = []
        self._tenant_conds(filter.org_id, filter.workspace_id, conds, args)
        for column, value in (("trace_group_id", filter.trace_group_id),
                              ("provider", filter.provider), ("model", filter.model),
                              ("api_key_hash", filter.api_key_hash),
                              ("response_status", filter.status)):
            if value is not None and value != "":
                conds.append(f"{column} = ?")
                args.append(value)
        if filter.min_status is not None:
            conds.append("response_status >= ?")
            args.append(filter.min_status)
        if filter.text:
            _text_conds(filter.text, conds, args)
        if filter.min_tokens is not None:
            conds.append("total_tokens >= ?")
            args.append(filter.min_tokens)
        if filter.max_tokens is not None:
            conds.append("total_tokens <= ?")
            args.append(filter.max_tokens)
        self._time_conds(filter.since, filter.until, conds, args)
        if not is_gateway_order(filter.order, filter.ascending):
            return await self._query_sorted(filter, conds, args, limit)
        if filter.cursor:
            created_at, trace_id = decode_cursor(filter.cursor)
            bound = await self._cursor_bound(created_at, trace_id)
            conds.append("(created_at < ? OR (created_at = ? AND id < ?))")
            args.extend([bound, bound, trace_id])
        where = " AND ".join(conds) or "1=1"
        cols = ", ".join(self._select(f) for f in ROW_FIELDS)
        rows = await self._fetch(
            f"SELECT {cols} FROM traces WHERE {where} "
            "ORDER BY created_at DESC, id DESC LIMIT ?", [*args, limit + 1])
        items = [TraceRow(**self._decode(ROW_FIELDS, row)) for row in rows[:limit]]
        next_cursor = None
        if len(rows) > limit and items:
            # From the stored value, not the decoded datetime: all nine digits.
            last = rows[limit - 1]
            when = (self._instant(last[_CREATED_AT]) or self._instant(last[_TIMESTAMP])
                    or Instant.of(items[-1].timestamp))
            next_cursor = encode_cursor(when, items[-1].id)
        return TracePage(items=items, next_cursor=next_cursor)

    async def _query_sorted(self, filter: TraceFilter, conds: list[str], args: list[Any],
                            limit: int) -> TracePage:
        """The list in another order, keyset-paged on (value, id) (store/traces/order.py)."""
        order, ascending = filter.order, filter.ascending
        column = ROW_FIELDS.index(check_order(order))
        if filter.cursor:
            value, trace_id = decode_sort_cursor(filter.cursor, order, ascending)
            cond, extra = after_sql(order, ascending, value)
            conds.append(cond)
            args.extend([*extra, trace_id])
        where = " AND ".join(conds) or "1=1"
        cols = ", ".join(self._select(f) for f in ROW_FIELDS)
        rows = await self._fetch(
            f"SELECT {cols} FROM traces WHERE {where} "
            f"ORDER BY {order_sql(order, ascending)} LIMIT ?", [*args, limit + 1])
        items = [TraceRow(**self._decode(ROW_FIELDS, row)) for row in rows[:limit]]
        next_cursor = None
        if len(rows) > limit and items:
            last = rows[limit - 1]  # its stored value, exactly: the bound of the next page
            next_cursor = encode_sort_cursor(order, ascending, last[column], items[-1].id)
        return TracePage(items=items, next_cursor=next_cursor)

    async def get_trace(self, trace_id: str) -> Trace:
        from tokentop.store.traces.errors import TraceNotFoundError

        fields = ROW_FIELDS + DETAIL_FIELDS
        cols = ", ".join(self._select(f) for f in fields)
        rows = await self._fetch(f"SELECT {cols} FROM traces WHERE id = ? LIMIT 1",
                                 [trace_id])
        if not rows:
            raise TraceNotFoundError(f"no trace with id {trace_id!r}")
        return Trace(**self._decode(fields, rows[0]))

    def _decode(self, fields: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
        out = dict(zip(fields, row, strict=True))
        for name in TIME_FIELDS:
            out[name] = self._time(out[name])
        if out["timestamp"] is None:
            out["timestamp"] = out["created_at"] or datetime.fromtimestamp(0, UTC)
        out["org_id"] = out["org_id"] or "default"
        out["workspace_id"] = out["workspace_id"] or "default"
        for name in ("latency_ms", "time_to_first_token_ms", "time_to_first_token_us",
                     "input_tokens", "output_tokens", "total_tokens", "response_status"):
            if name in out and out[name] is not None:
                out[name] = as_int(out[name])
        if out.get("estimated_cost_usd") is not None:
            out["estimated_cost_usd"] = as_float(out["estimated_cost_usd"])
        return out

    # -- filters ---------------------------------------------------------------------

    def _time_conds(self, since: datetime | Instant | None,
                    until: datetime | Instant | None, conds: list[str],
                    args: list[Any]) -> None:
        if since is not None:
            conds.append("timestamp >= ?")
            args.append(self._bind_time("timestamp", Instant.of(since)))
        if until is not None:
            conds.append("timestamp <= ?")
            args.append(self._bind_time("timestamp", Instant.of(until)))

    @staticmethod
    def _tenant_conds(org_id: str | None, workspace_id: str | None, conds: list[str],
                      args: list[Any]) -> None:
        """``org_id = ?`` and ``workspace_id = ?``, each when given (the gateway's
        buildTraceWhere/buildAnalyticsWhere put them first; its indexes lead with them)."""
        for column, value in (("org_id", org_id), ("workspace_id", workspace_id)):
            if value:
                conds.append(f"{column} = ?")
                args.append(value)

    def _where(self, f: AnalyticsFilter, extra: Sequence[str] = ()) -> tuple[str, list[Any]]:
        conds: list[str] = []
        args: list[Any] = []
        self._tenant_conds(f.org_id, f.workspace_id, conds, args)
        conds.extend(extra)
        for column, value in (("gateway_key_id", f.gateway_key_id),
                              ("provider", f.provider), ("model", f.model)):
            if value:
                conds.append(f"{column} = ?")
                args.append(value)
        self._time_conds(f.since, f.until, conds, args)
        return " AND ".join(conds) or "1=1", args

    async def tenants(self, filter: AnalyticsFilter) -> list[TenantStats]:
        """Traces per (org_id, workspace_id) matching ``filter``, most first.

        Counting only, so SQLite answers from idx_traces_org_workspace_timestamp alone.
        """
        where, args = self._where(filter)
        rows = await self._fetch(  # bare columns: the index's order, no sort
            "SELECT org_id, workspace_id, COUNT(*) "
            f"FROM traces WHERE {where} GROUP BY org_id, workspace_id", args)
        merged: dict[tuple[str, str], int] = {}
        for org, ws, n in rows:  # "" and "default" are one tenant to the gateway
            key = (tenant_name(org), tenant_name(ws))
            merged[key] = merged.get(key, 0) + _num(n)
        stats = [TenantStats(org_id=o, workspace_id=w, request_count=n)
                 for (o, w), n in merged.items()]
        return sorted(stats, key=lambda s: (-s.request_count, s.org_id, s.workspace_id))

    # -- summaries -------------------------------------------------------------------

    async def usage_summary(self, filter: AnalyticsFilter) -> UsageSummary:
        where, args = self._where(filter)
        rows = await self._fetch(
            "SELECT COUNT(*), COALESCE(SUM(input_tokens), 0), "
            "COALESCE(SUM(output_tokens), 0), COALESCE(SUM(total_tokens), 0) "
            f"FROM traces WHERE {where}", args)
        n, i, o, t = rows[0]
        return UsageSummary(request_count=_num(n), input_tokens=_num(i),
                            output_tokens=_num(o), total_tokens=_num(t))

    async def cost_summary(self, filter: AnalyticsFilter) -> CostSummary:
        where, args = self._where(filter)
        rows = await self._fetch(
            f"SELECT COUNT(*), COALESCE(SUM(estimated_cost_usd), 0) FROM traces WHERE {where}",
            args)
        n, cost = rows[0]
        return CostSummary(request_count=_num(n), total_cost_usd=round_cost(cost))

    # -- series ----------------------------------------------------------------------

    async def _hourly(self, filter: AnalyticsFilter, group_by: str, bucket: str
                      ) -> list[tuple[datetime, str, list[Any]]]:
        """Per (bucket, group): [count, input, output, total, cost, costed count]."""
        column = series_group(group_by)
        word = bucket_word(bucket)
        where, args = self._where(filter)
        group_sql = self._group_sql(column)
        group_by_sql = "1" if column is None else "1, 2"
        rows = await self._fetch(
            f"SELECT {self._hour_sql()} AS h, {group_sql} AS g, COUNT(*), "
            "COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0), "
            "COALESCE(SUM(total_tokens), 0), COALESCE(SUM(estimated_cost_usd), 0), "
            f"COUNT(estimated_cost_usd) FROM traces WHERE {where} GROUP BY {group_by_sql}",
            args)
        merged: dict[tuple[datetime, str], list[Any]] = {}
        hours: dict[Any, datetime | None] = {}
        keyed = []
        for row in rows:
            h = row[0]
            if h not in hours:
                hours[h] = self._hour_start(h)
            start = hours[h]
            if start is not None:  # None: a timestamp no parser understood (skipped)
                keyed.append((start, row[1] or "", row))
        # One summation order on both backends: by hour, then group.
        keyed.sort(key=lambda k: (k[0], k[1]))
        for start, g, (_h, _g, n, i, o, t, cost, costed) in keyed:
            acc = merged.setdefault((floor_bucket(start, word), g), [0, 0, 0, 0, 0.0, 0])
            acc[0] += _num(n)
            acc[1] += _num(i)
            acc[2] += _num(o)
            acc[3] += _num(t)
            acc[4] += float(cost or 0.0)
            acc[5] += _num(costed)
        return [(start, g, acc) for (start, g), acc in sorted(merged.items())]

    def _hour_start(self, h: Any) -> datetime | None:
        """The hour a row's bucket key names (a datetime, or "YYYY-MM-DD HH" text)."""
        if h is None:
            return None
        if isinstance(h, datetime):
            return to_utc(h)
        text = str(h)
        try:
            return datetime(int(text[0:4]), int(text[5:7]), int(text[8:10]),
                            int(text[11:13]), tzinfo=UTC)
        except ValueError:
            return None

    async def usage_series(self, filter: AnalyticsFilter, group_by: str = "none",
                           bucket: str = "day") -> list[UsagePoint]:
        return [UsagePoint(bucket_start=start, group=g, request_count=a[0],
                           input_tokens=a[1], output_tokens=a[2], total_tokens=a[3])
                for start, g, a in await self._hourly(filter, group_by, bucket)]

    async def cost_series(self, filter: AnalyticsFilter, group_by: str = "none",
                          bucket: str = "day") -> list[CostPoint]:
        points = []
        for start, g, a in await self._hourly(filter, group_by, bucket):
            total = round_cost(a[4])
            points.append(CostPoint(bucket_start=start, group=g, request_count=a[0],
                                    total_cost_usd=total,
                                    avg_cost_usd=round_cost(total / a[5]) if a[5] else 0.0))
        return points

    # -- breakdowns ------------------------------------------------------------------

    async def model_stats(self, filter: AnalyticsFilter) -> list[ModelStats]:
        where, args = self._where(filter)
        rows = await self._fetch(
            # COALESCE: on SQLite a bare "GROUP BY model" walks idx_traces_model and
            # fetches every row at random; an expression groups after one table scan.
            "SELECT COALESCE(model, ''), COUNT(*), COUNT(latency_ms), "
            "COALESCE(SUM(latency_ms), 0), "
            "COUNT(time_to_first_token_ms), COALESCE(SUM(time_to_first_token_ms), 0), "
            "COALESCE(SUM(total_tokens), 0), COALESCE(SUM(estimated_cost_usd), 0) "
            f"FROM traces WHERE {where} GROUP BY 1", args)
        stats = [
            ModelStats(model=m, request_count=_num(n),
                       avg_latency_ms=_num(ls) / _num(lc) if _num(lc) else 0.0,
                       avg_ttft_ms=_num(ts) / _num(tc) if _num(tc) else 0.0,
                       total_tokens=_num(tok), total_cost_usd=round_cost(cost))
            for m, n, lc, ls, tc, ts, tok, cost in rows]
        return sorted(stats, key=lambda s: (-s.request_count, s.model))

    async def key_stats(self, filter: AnalyticsFilter) -> list[KeyStats]:
        where, args = self._where(
            filter, ["api_key_hash IS NOT NULL", "api_key_hash <> ''"])
        rows = await self._fetch(
            "SELECT COALESCE(api_key_hash, ''), COUNT(*), COALESCE(SUM(total_tokens), 0), "
            "COALESCE(SUM(estimated_cost_usd), 0), MAX(created_at) "
            f"FROM traces WHERE {where} GROUP BY 1", args)
        stats = [KeyStats(api_key_hash=k, request_count=_num(n), total_tokens=_num(t),
                          total_cost_usd=round_cost(c), last_active_at=self._time(last))
                 for k, n, t, c, last in rows]
        return sorted(stats, key=lambda s: (-s.request_count, s.api_key_hash))

    async def latency_percentiles(self, filter: AnalyticsFilter,
                                  group_by: str = "none") -> list[LatencyStats]:
        column = breakdown_group(group_by)
        where, args = self._where(filter, ["latency_ms IS NOT NULL"])
        per_group: dict[str, dict[int, int]] | None = None
        cache = self.latency_cache
        if cache is not None and not (filter.provider or filter.model or filter.gateway_key_id):
            # none is the model dim merged: one dim serves the screen's two calls
            per_group = await cache.histogram(column or "model", filter.since, filter.until,
                                              filter.org_id, filter.workspace_id)
            if per_group is not None and column is None:
                merged: dict[int, int] = {}
                for counts in per_group.values():
                    for v, n in counts.items():
                        merged[v] = merged.get(v, 0) + n
                per_group = {"": merged} if merged else {}
        if per_group is None:
            rows = await self._latency_histogram(self._group_sql(column), column is None,
                                                 where, args)
            per_group = {}
            for g, value, n in rows:
                cell = per_group.setdefault(g or "", {})
                cell[int(value)] = cell.get(int(value), 0) + _num(n)
        stats = []
        for g in sorted(per_group):
            if not per_group[g]:
                continue
            h = Histogram(list(per_group[g].items()))
            stats.append(LatencyStats(
                group=g, request_count=h.count, avg_ms=h.total / h.count,
                min_ms=h.values[0], max_ms=h.values[-1], p50_ms=h.percentile(0.50),
                p95_ms=h.percentile(0.95), p99_ms=h.percentile(0.99)))
        return stats

    async def error_rates(self, filter: AnalyticsFilter,
                          group_by: str = "none") -> list[ErrorRateStats]:
        column = breakdown_group(group_by)
        where, args = self._where(filter)
        group_tail = "" if column is None else " GROUP BY 1"
        rows = await self._fetch(
            f"SELECT {self._group_sql(column)} AS g, COUNT(*), "
            "COALESCE(SUM(CASE WHEN response_status BETWEEN 400 AND 499 THEN 1 ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN response_status BETWEEN 500 AND 599 THEN 1 ELSE 0 END), 0) "
            f"FROM traces WHERE {where}{group_tail}", args)
        stats = []
        for g, n, e4, e5 in rows:
            total = _num(n)
            if total == 0:
                continue
            stats.append(ErrorRateStats(
                group=g or "", total_requests=total, error_count_4xx=_num(e4),
                error_count_5xx=_num(e5), error_rate=(_num(e4) + _num(e5)) / total))
        return sorted(stats, key=lambda s: (-s.total_requests, s.group))


def check_columns(columns: set[str], where: str) -> None:
    """TraceStoreError unless ``columns`` hold the gateway's traces schema."""
    if not columns:
        raise TraceStoreError(f"not a gateway trace store (no traces table): {where}")
    missing = sorted(REQUIRED_COLUMNS - columns)
    if missing:
        raise TraceStoreError(
            f"not a gateway trace store (traces lacks {', '.join(missing)}): {where}")


SEARCHED = ("id", "trace_group_id", "provider", "model", "request_path", "gateway_key_id")


def _text_conds(text: str, conds: list[str], args: list[Any]) -> None:
    """``text`` anywhere in the columns a user reads in the list, ignoring case: LIKE
    with its wildcards escaped (the same SQL on SQLite and PostgreSQL; a search is a
    scan, as the gateway has no text index)."""
    pattern = "%" + "".join("\\" + c if c in "\\%_" else c for c in text.lower()) + "%"
    conds.append("(" + " OR ".join(
        f"LOWER(CAST({c} AS TEXT)) LIKE ? ESCAPE '\\'" for c in SEARCHED) + ")")
    args.extend([pattern] * len(SEARCHED))
