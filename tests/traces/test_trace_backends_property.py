"""Random traces, both backends, the same numbers: a property test of the analytics.

Each example writes the same generated rows to a fresh SQLite file and to one
PostgreSQL table (truncated between examples), then compares every analytics call
with the reference (tests/traces/reference.py) and across backends.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest
import reference as ref
from gateway_db import Row, write_postgres, write_sqlite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pg_server import PgServer

from tokentop.store.traces import AnalyticsFilter, open_trace_store

T0 = datetime(2026, 3, 1, tzinfo=UTC)

row_strategy = st.builds(
    lambda n, provider, model, seconds, latency, status, tokens, cost, key, route: Row(
        id=f"r{n}", trace_group_id=None, org_id="default", workspace_id="default",
        timestamp=T0 + timedelta(microseconds=seconds), provider=provider, model=model,
        request_method="POST", request_path=route, request_headers=None, request_body=None,
        response_status=status, response_headers=None, response_body=None,
        input_tokens=tokens, output_tokens=tokens and tokens // 3,
        total_tokens=tokens and tokens + tokens // 3, latency_ms=latency,
        time_to_first_token_ms=None, time_to_first_token_us=None, api_key_hash=key,
        estimated_cost_usd=cost, metadata=None,
        created_at=T0 + timedelta(microseconds=seconds), gateway_key_id=key),
    st.integers(0, 10**9), st.sampled_from(["openai", "anthropic"]),
    st.sampled_from(["m1", "M2", "m-3"]),
    st.integers(0, 21 * 86400 * 10**6),
    st.one_of(st.none(), st.integers(0, 60_000)),
    st.one_of(st.none(), st.sampled_from([200, 204, 399, 400, 404, 499, 500, 599, 600])),
    st.one_of(st.none(), st.integers(0, 10**6)),
    st.one_of(st.none(), st.floats(0, 5, allow_nan=False, allow_infinity=False)),
    st.sampled_from([None, "", "k1", "k2"]),
    st.sampled_from(["/a", "/b"]),
)


def plain(value: Any) -> Any:
    return msgspec.to_builtins(value, builtin_types=(datetime,))


async def analytics(target: str) -> dict[str, Any]:
    store = await open_trace_store(target)
    f = AnalyticsFilter()
    try:
        out: dict[str, Any] = {"usage": await store.usage_summary(f),
                               "cost": await store.cost_summary(f)}
        for g in ("none", "provider", "model", "route", "key"):
            out[f"latency/{g}"] = await store.latency_percentiles(f, g)
            out[f"errors/{g}"] = await store.error_rates(f, g)
        for b in ("hour", "day", "week"):
            out[f"usage/{b}"] = await store.usage_series(f, "model", b)
            out[f"cost/{b}"] = await store.cost_series(f, "provider", b)
        return plain(out)
    finally:
        await store.close()


@pytest.fixture(scope="module")
def pg_empty(pg_server: PgServer) -> str:
    return pg_server.create_database("prop")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(row_strategy, min_size=1, max_size=60, unique_by=lambda r: r.id))
def test_random_rows_same_numbers(pg_empty: str, rows: list[Row]) -> None:
    async def load_pg() -> dict[str, Any]:
        conn = await asyncpg.connect(pg_empty)
        try:
            # A database the gateway has never migrated: the migrations run again.
            await conn.execute("DROP TABLE IF EXISTS traces, schema_migrations")
        finally:
            await conn.close()
        await write_postgres(pg_empty, rows)
        return await analytics(pg_empty)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gw.db"
        write_sqlite(path, rows)
        on_sqlite = asyncio.run(analytics(str(path)))
    on_pg = asyncio.run(load_pg())
    assert on_sqlite == on_pg
    for g in ("none", "provider", "model", "route", "key"):
        assert on_sqlite[f"latency/{g}"] == ref.latency(rows, g)
        assert on_sqlite[f"errors/{g}"] == ref.errors(rows, g)
    assert on_sqlite["usage/week"] == ref.usage_series(rows, "model", "week")
