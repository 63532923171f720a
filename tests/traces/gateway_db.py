"""Write gateway trace stores for tests and benchmarks: the gateway's schema, real rows.

One list of :class:`Row` is written to a SQLite file (as the gateway's Go driver
writes it: times as text, "2026-05-05 12:00:00.123456+00:00") and to a PostgreSQL
database (TIMESTAMPTZ, JSONB headers/metadata), with exactly the table and indexes
of the gateway's migrations (seed 004: sqlite/001+002, postgres/001+003; the
Postgres tenant tables of 002/004 are not part of DESIGN 2.5 and are left out).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SQLITE_TABLE = """
CREATE TABLE IF NOT EXISTS traces (
    id TEXT PRIMARY KEY,
    trace_group_id TEXT,
    org_id TEXT NOT NULL DEFAULT 'default',
    workspace_id TEXT NOT NULL DEFAULT 'default',
    timestamp DATETIME NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    request_method TEXT NOT NULL,
    request_path TEXT NOT NULL,
    request_headers TEXT,
    request_body TEXT,
    response_status INTEGER,
    response_headers TEXT,
    response_body TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    total_tokens INTEGER,
    latency_ms INTEGER,
    time_to_first_token_ms INTEGER,
    time_to_first_token_us INTEGER,
    api_key_hash TEXT,
    estimated_cost_usd REAL,
    metadata TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    gateway_key_id TEXT
)
"""

POSTGRES_TABLE = """
CREATE TABLE IF NOT EXISTS traces (
    id TEXT PRIMARY KEY,
    trace_group_id TEXT,
    org_id TEXT NOT NULL DEFAULT 'default',
    workspace_id TEXT NOT NULL DEFAULT 'default',
    timestamp TIMESTAMPTZ NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    request_method TEXT NOT NULL,
    request_path TEXT NOT NULL,
    request_headers JSONB,
    request_body TEXT,
    response_status INTEGER,
    response_headers JSONB,
    response_body TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    total_tokens INTEGER,
    latency_ms BIGINT,
    time_to_first_token_ms BIGINT,
    time_to_first_token_us BIGINT,
    api_key_hash TEXT,
    estimated_cost_usd DOUBLE PRECISION,
    metadata JSONB,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    gateway_key_id TEXT
)
"""

# The same on both backends (migrations 001 and the gateway_key_id one).
INDEXES = """
CREATE INDEX IF NOT EXISTS idx_traces_timestamp ON traces(timestamp);
CREATE INDEX IF NOT EXISTS idx_traces_provider ON traces(provider);
CREATE INDEX IF NOT EXISTS idx_traces_model ON traces(model);
CREATE INDEX IF NOT EXISTS idx_traces_api_key_hash ON traces(api_key_hash);
CREATE INDEX IF NOT EXISTS idx_traces_org_workspace_created_at_id ON traces(org_id, workspace_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_traces_org_workspace_timestamp ON traces(org_id, workspace_id, timestamp);
CREATE INDEX IF NOT EXISTS idx_traces_created_at_id ON traces(created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_traces_provider_created_at_id ON traces(provider, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_traces_model_created_at_id ON traces(model, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_traces_api_key_hash_created_at_id ON traces(api_key_hash, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_traces_response_status_created_at_id ON traces(response_status, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_traces_provider_timestamp ON traces(provider, timestamp);
CREATE INDEX IF NOT EXISTS idx_traces_model_timestamp ON traces(model, timestamp);
CREATE INDEX IF NOT EXISTS idx_traces_api_key_hash_timestamp ON traces(api_key_hash, timestamp);
CREATE INDEX IF NOT EXISTS idx_traces_response_status_timestamp ON traces(response_status, timestamp);
CREATE INDEX IF NOT EXISTS idx_traces_gateway_key_id ON traces(gateway_key_id);
CREATE INDEX IF NOT EXISTS idx_traces_org_workspace_gateway_key_timestamp ON traces(org_id, workspace_id, gateway_key_id, timestamp);
"""  # noqa: E501


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


def go_sqlite_text(dt: datetime) -> str:
    """How modernc.org/sqlite writes a time.Time: "2006-01-02 15:04:05.999999999-07:00"."""
    dt = dt.astimezone(UTC)
    frac = f"{dt.microsecond:06d}".rstrip("0")
    base = dt.strftime("%Y-%m-%d %H:%M:%S")
    return f"{base}.{frac}+00:00" if frac else f"{base}+00:00"


def sqlite_values(row: Row, time_text: Any = go_sqlite_text) -> tuple[Any, ...]:
    values = list(astuple(row))
    values[COLUMNS.index("timestamp")] = time_text(row.timestamp)
    values[COLUMNS.index("created_at")] = time_text(row.created_at)
    return tuple(values)


def write_sqlite(path: Path, rows: Iterable[Row], *, time_text: Any = go_sqlite_text,
                 indexes_after: bool = False) -> None:
    """Create the gateway's table (and indexes) at ``path`` and insert ``rows``."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute(SQLITE_TABLE)
        if not indexes_after:
            conn.executescript(INDEXES)
        placeholders = ", ".join("?" * len(COLUMNS))
        conn.executemany(f"INSERT INTO traces ({', '.join(COLUMNS)}) VALUES ({placeholders})",
                         (sqlite_values(r, time_text) for r in rows))
        conn.commit()
        if indexes_after:
            conn.executescript(INDEXES)
            conn.commit()
        # No ANALYZE: the gateway never runs it, so its planner has no statistics.
    finally:
        conn.close()


def pg_record(row: Row) -> tuple[Any, ...]:
    return astuple(row)


async def write_postgres(dsn: str, rows: Sequence[Row] | Iterable[Row], *,
                         indexes_after: bool = False) -> None:
    """Create the gateway's table (and indexes) in ``dsn`` and COPY ``rows`` in."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(POSTGRES_TABLE)
        if not indexes_after:
            await conn.execute(INDEXES)
        await conn.copy_records_to_table("traces", records=(pg_record(r) for r in rows),
                                         columns=list(COLUMNS))
        if indexes_after:
            await conn.execute(INDEXES)
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
