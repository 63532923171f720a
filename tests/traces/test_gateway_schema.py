"""The gateway's migrations, replayed by tokentop.tui.demo.gateway_schema.

Both backends end with the same columns in the same order (the rows the tests COPY
and INSERT rely on it), each migration is recorded once by name, and a second replay,
as on a gateway restart, changes nothing.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from gateway_db import COLUMNS
from pg_server import PgServer

from tokentop.tui.demo.gateway_schema import (
    POSTGRES_MIGRATIONS,
    SQLITE_MIGRATIONS,
    apply_postgres,
    apply_sqlite,
)


def test_sqlite_replay_records_each_migration_once(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "gw.db")
    try:
        at = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
        apply_sqlite(conn, at)
        apply_sqlite(conn)  # a restart: nothing left to apply
        recorded = conn.execute("SELECT name, applied_at FROM schema_migrations "
                                "ORDER BY name").fetchall()
        cols = tuple(r[1] for r in conn.execute("PRAGMA table_info(traces)"))
    finally:
        conn.close()
    assert recorded == [(name, "2026-05-01 09:30:00") for name, _ in SQLITE_MIGRATIONS]
    assert cols == COLUMNS


def test_postgres_replay_records_each_migration_once(pg_server: PgServer) -> None:
    dsn = pg_server.create_database("schema")

    async def replay() -> tuple[list[str], tuple[str, ...]]:
        conn = await asyncpg.connect(dsn)
        try:
            await apply_postgres(conn)
            await apply_postgres(conn)
            names = [r["name"] for r in await conn.fetch(
                "SELECT name FROM schema_migrations ORDER BY name")]
            cols = tuple(r["column_name"] for r in await conn.fetch(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'traces' ORDER BY ordinal_position"))
            return names, cols
        finally:
            await conn.close()

    names, cols = asyncio.run(replay())
    assert names == [name for name, _ in POSTGRES_MIGRATIONS]
    assert cols == COLUMNS
