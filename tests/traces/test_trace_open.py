"""Opening trace stores: backend choice, read-only access, clear one-line errors, and
SQLite's many timestamp spellings."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import reference as ref
from gateway_db import fixture_rows, write_sqlite
from pg_server import PgServer, free_port

from tokentop.store.traces import AnalyticsFilter, TraceFilter, TraceStoreError, open_trace_store
from tokentop.store.traces.timefmt import TextStyle, parse_db_time

ROWS = fixture_rows(60)


async def expect_error(target: str, match: str) -> str:
    with pytest.raises(TraceStoreError, match=match) as info:
        store = await open_trace_store(target)
        await store.close()
    message = str(info.value)
    assert "\n" not in message
    return message


async def test_sqlite_open_errors(tmp_path: Path) -> None:
    await expect_error(str(tmp_path / "missing.db"), "trace database not found: .*missing.db")
    await expect_error(str(tmp_path), "is a directory")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database at all" * 100)
    await expect_error(str(garbage), "not a SQLite database")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE events (id TEXT)")
    await expect_error(str(other), r"not a gateway trace store \(no traces table\)")
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:
        conn.execute("CREATE TABLE traces (id TEXT PRIMARY KEY, model TEXT)")
    await expect_error(str(old), "traces lacks .*gateway_key_id")
    await expect_error("mysql://localhost/x", "unsupported trace store URL scheme 'mysql'")
    await expect_error("  ", "no trace store given")


async def test_sqlite_is_opened_read_only(tmp_path: Path) -> None:
    path = tmp_path / "gw.db"
    write_sqlite(path, ROWS)
    with sqlite3.connect(path) as conn:  # settle the WAL into the main file
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    store = await open_trace_store(str(path))
    try:
        assert store.backend == "sqlite"
        await store.usage_summary(AnalyticsFilter())
        await store.query_traces(TraceFilter(limit=10))
        with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
            await store._conn.execute("DELETE FROM traces")  # type: ignore[attr-defined]
    finally:
        await store.close()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


PLUS2 = timezone(timedelta(hours=2))
STYLES = {
    "go-driver": lambda dt: dt.strftime("%Y-%m-%d %H:%M:%S.%f+00:00"),
    "rfc3339-nano": lambda dt: dt.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z",
    "rfc3339": lambda dt: dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "go-string": lambda dt: dt.strftime("%Y-%m-%d %H:%M:%S.%f +0000 UTC"),
    "current-timestamp": lambda dt: dt.strftime("%Y-%m-%d %H:%M:%S"),
    "offset": lambda dt: dt.astimezone(PLUS2).strftime("%Y-%m-%dT%H:%M:%S.%f+02:00"),
    "go-string-offset": lambda dt: dt.astimezone(PLUS2).strftime(
        "%Y-%m-%d %H:%M:%S.%f +0200 CEST"),
}


@pytest.mark.parametrize("style", sorted(STYLES))
async def test_sqlite_time_spellings(tmp_path: Path, style: str) -> None:
    """Each spelling the gateway (or SQLite itself) writes parses, buckets and filters."""
    spell = STYLES[style]
    path = tmp_path / "gw.db"
    write_sqlite(path, ROWS, time_text=spell)
    whole = style in ("rfc3339", "current-timestamp")

    def trunc(dt: datetime) -> datetime:
        return dt.replace(microsecond=0) if whole else dt

    since = datetime(2026, 4, 27, 9, 0, tzinfo=UTC)
    store = await open_trace_store(str(path))
    try:
        page = await store.query_traces(TraceFilter(limit=200))
        hourly = await store.usage_series(AnalyticsFilter(), "none", "hour")
        weekly = await store.usage_series(AnalyticsFilter(), "model", "week")
        after = await store.usage_summary(AnalyticsFilter(since=since))
        walked: list[str] = []
        cursor = None
        while True:
            p = await store.query_traces(TraceFilter(limit=6, cursor=cursor))
            walked += [t.id for t in p.items]
            if not (cursor := p.next_cursor):
                break
    finally:
        await store.close()
    assert {t.id: t.created_at for t in page.items} == {
        r.id: trunc(r.created_at) for r in ROWS}
    assert [(p.bucket_start, p.request_count) for p in hourly] == [
        (d["bucket_start"], d["request_count"]) for d in ref.usage_series(ROWS, "none", "hour")]
    assert [(p.bucket_start, p.group, p.total_tokens) for p in weekly] == [
        (d["bucket_start"], d["group"], d["total_tokens"])
        for d in ref.usage_series(ROWS, "model", "week")]
    assert sorted(walked) == sorted(r.id for r in ROWS) and len(set(walked)) == len(ROWS)
    if style not in ("offset", "go-string-offset"):  # text compares like the gateway's
        assert after.request_count == len(ref.select(ROWS, since=since))


def test_parse_db_time_forms() -> None:
    want = datetime(2026, 5, 5, 12, 0, 0, 123456, tzinfo=UTC)
    for text in ("2026-05-05 12:00:00.123456789+00:00", "2026-05-05T12:00:00.123456Z",
                 "2026-05-05T14:00:00.123456+02:00", "2026-05-05 12:00:00.123456 +0000 UTC",
                 "2026-05-05 07:00:00.123456789 -0500 EST", "2026-05-05 12:00:00.123456"):
        assert parse_db_time(text) == want, text
    with pytest.raises(ValueError):
        parse_db_time("May 5th")
    assert TextStyle.sniff("2026-05-05T12:00:00Z").format(want) == "2026-05-05T12:00:00.123456Z"
    # An empty table: the gateway's own form, Go's time.Time.String() (modernc.org/sqlite)
    assert TextStyle.sniff(None).format(want.replace(microsecond=0)) == (
        "2026-05-05 12:00:00 +0000 UTC")


async def test_postgres_open_errors(pg_server: PgServer) -> None:
    port = free_port()
    message = await expect_error(f"postgresql://postgres:s3cret@127.0.0.1:{port}/x",
                                 "cannot connect to PostgreSQL")
    assert "s3cret" not in message and "***" in message
    await expect_error(pg_server.dsn("no_such_db"), "no such PostgreSQL database")
    await expect_error("postgresql://u@127.0.0.1:99999/db", "cannot connect to PostgreSQL")
    await expect_error("postgresql://[::1", "invalid PostgreSQL URL")
    empty = pg_server.create_database("empty")
    await expect_error(empty, r"not a gateway trace store \(no traces table\)")


async def test_postgres_is_read_only(pg_fixture: str) -> None:
    store = await open_trace_store(pg_fixture.replace("postgresql://", "postgres://"))
    try:
        assert store.backend == "postgresql"
        with pytest.raises(TraceStoreError, match="read-only transaction"):
            await store._fetch("DELETE FROM traces")  # type: ignore[attr-defined]
        assert (await store.usage_summary(AnalyticsFilter())).request_count == 240
    finally:
        await store.close()


async def test_version_moves_when_traces_arrive(tmp_path: Path, pg_server: PgServer) -> None:
    """The screen polls version() and re-queries only when it changes."""
    import asyncio

    from gateway_db import sqlite_values, write_postgres

    path = tmp_path / "gw.db"
    write_sqlite(path, ROWS[:10])
    dsn = pg_server.create_database("version")
    await write_postgres(dsn, ROWS[:10])
    for target in (str(path), dsn):
        store = await open_trace_store(target)
        try:
            before = await store.version()
            assert await store.version() == before
            if target == dsn:
                await write_postgres(dsn, ROWS[10:11])
            else:
                def add() -> None:
                    with sqlite3.connect(path) as conn:
                        conn.execute(f"INSERT INTO traces VALUES ({', '.join('?' * 25)})",
                                     sqlite_values(ROWS[10]))
                await asyncio.to_thread(add)
            assert await store.version() != before
        finally:
            await store.close()


async def test_an_unreadable_time_skips_one_row_not_the_page(tmp_path: Path) -> None:
    path = tmp_path / "gw.db"
    write_sqlite(path, ROWS)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE traces SET timestamp = 'last tuesday' WHERE id = 'tr-00003'")
    store = await open_trace_store(str(path))
    try:
        page = await store.query_traces(TraceFilter(limit=200))
        series = await store.usage_series(AnalyticsFilter(), "none", "day")
        summary = await store.usage_summary(AnalyticsFilter())
    finally:
        await store.close()
    odd = next(t for t in page.items if t.id == "tr-00003")
    assert odd.timestamp == odd.created_at  # falls back to created_at
    assert len(page.items) == len(ROWS) == summary.request_count
    assert sum(p.request_count for p in series) == len(ROWS) - 1
