"""Write gateway trace stores for tests and benchmarks: the gateway's schema, real rows.

One list of :class:`Row` is written to a SQLite file (as the gateway's Go driver
writes it: times as text, Go's time.String(), "2026-05-05 12:00:00.123456 +0000 UTC")
and to a PostgreSQL database (TIMESTAMPTZ, JSONB headers/metadata), built by the
gateway's own migrations (seed 004: sqlite/001+002, postgres/001+003, replayed from
:mod:`tokentop.tui.demo.gateway_schema`, the one copy the demo uses too).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tokentop.store.traces.timefmt import Instant, go_string
from tokentop.tui.demo.gateway_schema import (
    POSTGRES_MIGRATIONS,
    SQLITE_MIGRATIONS,
    apply_postgres,
    apply_sqlite,
    index_statements,
)

# Indexes the migrations create, dropped and rebuilt around a bulk load (indexes_after).
SQLITE_INDEXES = index_statements(SQLITE_MIGRATIONS)
POSTGRES_INDEXES = index_statements(POSTGRES_MIGRATIONS)


def drop_all(indexes: list[tuple[str, str]]) -> str:
    return "".join(f"DROP INDEX IF EXISTS {name};" for name, _ in indexes)


def create_all(indexes: list[tuple[str, str]]) -> str:
    return "\n".join(ddl for _, ddl in indexes)


@dataclass(frozen=True)
class Row:
    """One trace, in the table's column order."""

    id: str
    trace_group_id: str | None
    org_id: str
    workspace_id: str
    timestamp: datetime
    provider: str
    model: str
    request_method: str
    request_path: str
    request_headers: str | None
    request_body: str | None
    response_status: int | None
    response_headers: str | None
    response_body: str | None
    input_tokens: int | None
    output_tokens: int | None
    total_tokens: int | None
    latency_ms: int | None
    time_to_first_token_ms: int | None
    time_to_first_token_us: int | None
    api_key_hash: str | None
    estimated_cost_usd: float | None
    metadata: str | None
    created_at: datetime
    gateway_key_id: str | None


COLUMNS = tuple(f.name for f in fields(Row))


def go_sqlite_text(dt: datetime | Instant) -> str:
    """How the gateway's modernc.org/sqlite writes a time.Time it is given: Go's
    ``t.String()`` (the driver's default, no ``_time_format`` in the gateway's DSN;
    ongoingai/gateway internal/trace/sqlite.go binds ``time.Now().UTC()``):
    "2006-01-02 15:04:05.999999999 +0000 UTC"."""
    return go_string(dt)


def sqlite_values(row: Row, time_text: Any = go_sqlite_text) -> tuple[Any, ...]:
    values = list(astuple(row))
    values[COLUMNS.index("timestamp")] = time_text(row.timestamp)
    values[COLUMNS.index("created_at")] = time_text(row.created_at)
    return tuple(values)


def write_sqlite(path: Path, rows: Iterable[Row], *, time_text: Any = go_sqlite_text,
                 indexes_after: bool = False) -> None:
    """Migrate ``path`` as the gateway does and insert ``rows`` (``indexes_after``: a
    bulk load, the indexes rebuilt after it)."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = OFF")
        apply_sqlite(conn)
        if indexes_after:
            conn.executescript(drop_all(SQLITE_INDEXES))
        placeholders = ", ".join("?" * len(COLUMNS))
        conn.executemany(f"INSERT INTO traces ({', '.join(COLUMNS)}) VALUES ({placeholders})",
                         (sqlite_values(r, time_text) for r in rows))
        conn.commit()
        if indexes_after:
            conn.executescript(create_all(SQLITE_INDEXES))
            conn.commit()
        # No ANALYZE: the gateway never runs it, so its planner has no statistics.
    finally:
        conn.close()


async def register_tenants(conn: Any, tenants: set[tuple[str, str]]) -> None:
    """The organizations and workspaces of ``tenants``: postgres/002 points traces at
    them with a foreign key, so the gateway has them before it writes a trace."""
    for org_id, workspace_id in sorted(tenants):
        await conn.execute("INSERT INTO organizations (id, name) VALUES ($1, $1) "
                           "ON CONFLICT (id) DO NOTHING", org_id)
        await conn.execute("INSERT INTO workspaces (id, org_id, name) VALUES ($1, $2, $1) "
                           "ON CONFLICT (org_id, id) DO NOTHING", workspace_id, org_id)


def pg_record(row: Row) -> tuple[Any, ...]:
    return astuple(row)


async def write_postgres(dsn: str, rows: Sequence[Row] | Iterable[Row], *,
                         indexes_after: bool = False) -> None:
    """Migrate ``dsn`` as the gateway does and COPY ``rows`` in (``indexes_after``: as
    :func:`write_sqlite`)."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await apply_postgres(conn)
        if isinstance(rows, Sequence):
            await register_tenants(conn, {(r.org_id, r.workspace_id) for r in rows})
        if indexes_after:
            await conn.execute(drop_all(POSTGRES_INDEXES))
        await conn.copy_records_to_table("traces", records=(pg_record(r) for r in rows),
                                         columns=list(COLUMNS))
        if indexes_after:
            await conn.execute(create_all(POSTGRES_INDEXES))
        await conn.execute("ANALYZE traces")
    finally:
        await conn.close()


# -- the fixture data -------------------------------------------------------------------

BASE = datetime(2026, 4, 26, 22, 0, 0, tzinfo=UTC)  # a Sunday evening: weeks cross
PROVIDERS_MODELS = (("openai", "gpt-4o"), ("openai", "gpt-4o-mini"),
                    ("anthropic", "claude-sonnet-4"), ("anthropic", "Claude-Haiku"))
ROUTES = ("/v1/chat/completions", "/v1/messages", "/v1/responses")
STATUSES = (200, 200, 200, 201, 200, 429, 200, 500, 200, 404, 503, 200, 599, 600, 399)
KEYS = ("gk_alpha", "gk_beta", None, "gk_gamma")
HASHES = ("hash-a", "hash-b", "", None, "hash-c")


def fixture_rows(n: int = 240) -> list[Row]:
    """Deterministic traces over ~10 days: ties, NULLs, errors and odd statuses included.

    Every value is a formula of ``i`` so tests compute expected numbers themselves.
    """
    rows = []
    for i in range(n):
        provider, model = PROVIDERS_MODELS[i % len(PROVIDERS_MODELS)]
        # Pairs of rows share created_at (the keyset's tie-break by id), with µs parts.
        created = BASE + timedelta(minutes=61 * (i // 2), microseconds=(i // 2) * 37 % 1000)
        ts = created - timedelta(milliseconds=(i * 173) % 5000)
        latency = None if i % 11 == 5 else (i * 7919) % 3000 + 20
        ttft = None if i % 5 == 0 else (i * 31) % 400 + 5
        inp = None if i % 23 == 7 else (i * 97) % 2000
        out = (i * 53) % 900
        total = None if inp is None else inp + out
        cost = None if i % 19 == 3 else round(((i * 37) % 1000) * 0.0000137, 10)
        rows.append(Row(
            id=f"tr-{i:05d}", trace_group_id=f"grp-{i % 7}", org_id="default",
            workspace_id="default", timestamp=ts, provider=provider, model=model,
            request_method="POST", request_path=ROUTES[i % len(ROUTES)],
            request_headers=json.dumps({"content-type": "application/json",
                                        "x-request-id": f"req-{i}"}),
            request_body=json.dumps({"model": model, "messages": [{"role": "user",
                                                                   "content": f"q{i}"}]}),
            response_status=STATUSES[i % len(STATUSES)],
            response_headers=json.dumps({"content-type": "application/json"}),
            response_body=json.dumps({"id": f"resp-{i}", "text": "\x1b[31mred\x1b[0m"}),
            input_tokens=inp, output_tokens=out, total_tokens=total, latency_ms=latency,
            time_to_first_token_ms=ttft, time_to_first_token_us=None if ttft is None
            else ttft * 1000, api_key_hash=HASHES[i % len(HASHES)], estimated_cost_usd=cost,
            metadata=json.dumps({"gateway_key_id": KEYS[i % len(KEYS)] or ""}),
            created_at=created, gateway_key_id=KEYS[i % len(KEYS)],
        ))
    return rows
