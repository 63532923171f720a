"""Analytics on both backends (SQLite file, real PostgreSQL) from the same fixture rows.

Each number is checked against tests/traces/reference.py (computed from the Python
rows), and ``test_backends_agree`` checks SQLite and PostgreSQL return identical
results for every call.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
import reference as ref
from gateway_db import fixture_rows

from tokentop.store.traces import AnalyticsFilter, TraceStoreError, open_trace_store

ROWS = fixture_rows()
SINCE = datetime(2026, 4, 28, 3, 0, tzinfo=UTC)
UNTIL = datetime(2026, 4, 29, 17, 30, tzinfo=UTC)


def plain(value: Any) -> Any:
    return msgspec.to_builtins(value, builtin_types=(datetime,))


async def test_usage_and_cost_summary(target: str) -> None:
    store = await open_trace_store(target)
    try:
        usage = await store.usage_summary(AnalyticsFilter())
        cost = await store.cost_summary(AnalyticsFilter(provider="anthropic"))
    finally:
        await store.close()
    assert usage.request_count == len(ROWS)
    assert usage.input_tokens == sum(r.input_tokens or 0 for r in ROWS)
    assert usage.output_tokens == sum(r.output_tokens or 0 for r in ROWS)
    assert usage.total_tokens == sum(r.total_tokens or 0 for r in ROWS)
    anthropic = ref.select(ROWS, provider="anthropic")
    assert cost.request_count == len(anthropic)
    assert cost.total_cost_usd == round(sum(r.estimated_cost_usd or 0 for r in anthropic), 9)


@pytest.mark.parametrize("bucket", ["hour", "day", "week"])
@pytest.mark.parametrize("group_by", ["none", "provider", "model"])
async def test_usage_series(target: str, bucket: str, group_by: str) -> None:
    store = await open_trace_store(target)
    try:
        points = await store.usage_series(AnalyticsFilter(), group_by, bucket)
    finally:
        await store.close()
    assert plain(points) == ref.usage_series(ROWS, group_by, bucket)
    if bucket == "week":  # the fixture crosses a Monday: two weeks, both start on Monday
        starts = sorted({p.bucket_start for p in points})
        assert [s.weekday() for s in starts] == [0, 0]
        assert starts[0] == datetime(2026, 4, 20, tzinfo=UTC)


@pytest.mark.parametrize("bucket", ["hour", "day", "week"])
@pytest.mark.parametrize("group_by", ["none", "model"])
async def test_cost_series(target: str, bucket: str, group_by: str) -> None:
    store = await open_trace_store(target)
    try:
        points = await store.cost_series(AnalyticsFilter(), group_by, bucket)
    finally:
        await store.close()
    got = [(p.bucket_start, p.group, p.request_count, p.total_cost_usd, p.avg_cost_usd)
           for p in points]
    assert got == ref.cost_series(ROWS, group_by, bucket)


async def test_model_and_key_stats(target: str) -> None:
    store = await open_trace_store(target)
    try:
        models = await store.model_stats(AnalyticsFilter())
        keys = await store.key_stats(AnalyticsFilter())
    finally:
        await store.close()
    assert [m.model for m in models] == ["Claude-Haiku", "claude-sonnet-4", "gpt-4o",
                                         "gpt-4o-mini"]  # 60 each: by name, binary order
    for m in models:
        rows = ref.select(ROWS, model=m.model)
        lat = [r.latency_ms for r in rows if r.latency_ms is not None]
        ttft = [r.time_to_first_token_ms for r in rows if r.time_to_first_token_ms is not None]
        assert m.request_count == len(rows)
        assert m.avg_latency_ms == sum(lat) / len(lat)  # NULLs ignored
        assert m.avg_ttft_ms == sum(ttft) / len(ttft)
        assert m.total_tokens == sum(r.total_tokens or 0 for r in rows)
    hashed = [r for r in ROWS if r.api_key_hash]
    assert {k.api_key_hash for k in keys} == {"hash-a", "hash-b", "hash-c"}
    for k in keys:
        rows = [r for r in hashed if r.api_key_hash == k.api_key_hash]
        assert k.request_count == len(rows)
        assert k.last_active_at == max(r.created_at for r in rows)
        assert k.total_cost_usd == round(sum(r.estimated_cost_usd or 0 for r in rows), 9)


@pytest.mark.parametrize("group_by", ["none", "provider", "model", "route", "key"])
async def test_latency_percentiles(target: str, group_by: str) -> None:
    store = await open_trace_store(target)
    try:
        stats = await store.latency_percentiles(AnalyticsFilter(), group_by)
    finally:
        await store.close()
    assert plain(stats) == ref.latency(ROWS, group_by)
    nulls = sum(r.latency_ms is None for r in ROWS)
    assert nulls > 0 and sum(s.request_count for s in stats) == len(ROWS) - nulls


@pytest.mark.parametrize("group_by", ["none", "provider", "model", "route", "key"])
async def test_error_rates(target: str, group_by: str) -> None:
    store = await open_trace_store(target)
    try:
        stats = await store.error_rates(AnalyticsFilter(), group_by)
    finally:
        await store.close()
    assert plain(stats) == ref.errors(ROWS, group_by)
    if group_by == "none":  # 399 and 600 are not errors; 400-599 are
        assert stats[0].error_count_5xx == sum(
            500 <= (r.response_status or 0) <= 599 for r in ROWS)


async def test_analytics_filters(target: str) -> None:
    f = AnalyticsFilter(provider="openai", gateway_key_id="gk_alpha", since=SINCE, until=UNTIL)
    store = await open_trace_store(target)
    try:
        usage = await store.usage_summary(f)
        lat = await store.latency_percentiles(f, "model")
        series = await store.usage_series(AnalyticsFilter(model="gpt-4o", since=SINCE,
                                                          until=UNTIL), "none", "hour")
    finally:
        await store.close()
    rows = ref.select(ROWS, provider="openai", gateway_key_id="gk_alpha", since=SINCE,
                      until=UNTIL)
    assert 0 < usage.request_count == len(rows) < len(ROWS)
    assert plain(lat) == ref.latency(rows, "model")
    assert plain(series) == ref.usage_series(
        ref.select(ROWS, model="gpt-4o", since=SINCE, until=UNTIL), "none", "hour")


async def test_invalid_group_and_bucket(target: str) -> None:
    store = await open_trace_store(target)
    try:
        with pytest.raises(TraceStoreError, match="invalid group-by 'route' for a series"):
            await store.usage_series(AnalyticsFilter(), "route", "day")
        with pytest.raises(TraceStoreError, match="invalid group-by 'modle'"):
            await store.latency_percentiles(AnalyticsFilter(), "modle")
        with pytest.raises(TraceStoreError, match="invalid bucket 'month'"):
            await store.cost_series(AnalyticsFilter(), "none", "month")
    finally:
        await store.close()


async def everything(target: str) -> dict[str, Any]:
    store = await open_trace_store(target)
    out: dict[str, Any] = {}
    try:
        for name, f in (("all", AnalyticsFilter()),
                        ("window", AnalyticsFilter(since=SINCE, until=UNTIL)),
                        ("anthropic", AnalyticsFilter(provider="anthropic"))):
            out[f"{name}/usage"] = await store.usage_summary(f)
            out[f"{name}/cost"] = await store.cost_summary(f)
            out[f"{name}/models"] = await store.model_stats(f)
            out[f"{name}/keys"] = await store.key_stats(f)
            for g in ("none", "provider", "model"):
                for b in ("hour", "day", "week"):
                    out[f"{name}/usage/{g}/{b}"] = await store.usage_series(f, g, b)
                    out[f"{name}/cost/{g}/{b}"] = await store.cost_series(f, g, b)
            for g in ("none", "provider", "model", "route", "key"):
                out[f"{name}/latency/{g}"] = await store.latency_percentiles(f, g)
                out[f"{name}/errors/{g}"] = await store.error_rates(f, g)
    finally:
        await store.close()
    return plain(out)


async def test_backends_agree(sqlite_fixture: str, pg_fixture: str) -> None:
    """The same rows give exactly the same numbers on SQLite and PostgreSQL."""
    on_sqlite = await everything(sqlite_fixture)
    on_pg = await everything(pg_fixture)
    assert on_sqlite.keys() == on_pg.keys()
    for key in on_sqlite:
        assert on_sqlite[key] == on_pg[key], key
    assert on_sqlite["all/usage"]["request_count"] == len(ROWS)
