"""The latency cache (store/traces/latency_cache.py) gives the scan's numbers, always.

Every test compares the cached answer with the same store read with the cache off
(a scan: what tests/traces/test_trace_analytics.py checks against the reference),
on real SQLite files and a real PostgreSQL, while the store changes under it: rows
appended, rows arriving out of order, rows deleted, the database replaced, the cache
file corrupted or unwritable.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest
from gateway_db import BASE, Row, fixture_rows, write_postgres, write_sqlite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pg_server import PgServer

from tokentop.store.traces import AnalyticsFilter, open_trace_store
from tokentop.store.traces.latency_cache import LAG

GROUPS = ("none", "provider", "model", "route", "key")


def windows() -> list[AnalyticsFilter]:
    """Unbounded, open on either side, inside one day, across days, empty, inverted."""
    day = timedelta(days=1)
    return [
        AnalyticsFilter(),
        AnalyticsFilter(since=BASE + day * 2 + timedelta(hours=3)),
        AnalyticsFilter(until=BASE + day * 3 + timedelta(minutes=17)),
        AnalyticsFilter(since=BASE + day + timedelta(hours=5),
                        until=BASE + day * 4 + timedelta(hours=7, seconds=1)),
        AnalyticsFilter(since=BASE + day * 2 + timedelta(hours=1),
                        until=BASE + day * 2 + timedelta(hours=9)),
        AnalyticsFilter(since=BASE.replace(hour=0) + day * 2, until=BASE + day * 3),
        AnalyticsFilter(since=BASE + day * 40, until=BASE + day * 41),
        AnalyticsFilter(since=BASE + day * 4, until=BASE + day * 2),
    ]


async def answers(target: str, mode: str, cache_dir: Path,
                  filters: list[AnalyticsFilter] | None = None) -> tuple[Any, int]:
    """Every group of every window; and how many whole-store scans the cache made."""
    store = await open_trace_store(target, latency_cache=mode, cache_dir=cache_dir)  # type: ignore[arg-type]
    try:
        out = [msgspec.to_builtins(await store.latency_percentiles(f, g))
               for f in (filters or windows()) for g in GROUPS]
        cache = getattr(store, "latency_cache", None)
        return out, (cache.rebuilds if cache is not None else 0)
    finally:
        await store.close()


def scan(target: str, tmp_path: Path, filters: list[AnalyticsFilter] | None = None) -> Any:
    return asyncio.run(answers(target, "off", tmp_path / "unused", filters))[0]


def cached(target: str, cache_dir: Path, filters: list[AnalyticsFilter] | None = None
           ) -> tuple[Any, int]:
    return asyncio.run(answers(target, "file", cache_dir, filters))


def test_cache_gives_the_scans_numbers(target: str, tmp_path: Path) -> None:
    expected = scan(target, tmp_path)
    assert any(expected), "the fixture has latencies in its windows"
    got, rebuilds = cached(target, tmp_path / "cache")
    assert got == expected
    assert rebuilds == 4  # model (serving none too), provider, route, key: one scan each
    got, rebuilds = cached(target, tmp_path / "cache")  # a new process: read from the file
    assert (got, rebuilds) == (expected, 0)
    (cache_file,) = (tmp_path / "cache" / "trace-latency").glob("*.db")
    assert cache_file.stat().st_mode & 0o777 == 0o600  # group names: models, routes, keys
    assert cache_file.parent.stat().st_mode & 0o777 == 0o700


def later(rows: list[Row], after: datetime, start: int, latency: int) -> list[Row]:
    """Copies of ``rows`` created after ``after``, with new ids and latencies."""
    out = []
    for k, r in enumerate(rows):
        created = after + timedelta(minutes=7 * (k + 1))
        out.append(replace(r, id=f"new-{start + k}", created_at=created,
                           timestamp=created - timedelta(milliseconds=50),
                           latency_ms=None if r.latency_ms is None else latency + k))
    return out


def test_sqlite_follows_appends_out_of_order_rows_and_deletes(tmp_path: Path) -> None:
    rows = fixture_rows()
    db = tmp_path / "gw.db"
    write_sqlite(db, rows)
    cache_dir = tmp_path / "cache"
    newest = max(r.created_at for r in rows)
    first, rebuilds = cached(str(db), cache_dir)
    assert (first, rebuilds) == (scan(str(db), tmp_path), 4)

    # The gateway goes on inserting: folded in, no scan.
    write_sqlite(db, later(rows[:30], newest, 0, 9000))
    got, rebuilds = cached(str(db), cache_dir)
    assert got == scan(str(db), tmp_path) != first
    assert rebuilds == 0

    # A row committed late, created_at within LAG of the newest: folded, no scan.
    newest = newest + timedelta(minutes=7 * 30)
    write_sqlite(db, [replace(rows[0], id="late-1", latency_ms=77_777,
                              created_at=newest - LAG / 2, timestamp=newest - LAG / 2)])
    got, rebuilds = cached(str(db), cache_dir)
    assert got == scan(str(db), tmp_path)
    assert rebuilds == 0
    assert any(s["max_ms"] == 77_777 for answer in got for s in answer)

    # One far older than the watermark, or a row removed: the counts disagree, rebuilt.
    write_sqlite(db, [replace(rows[3], id="very-late", latency_ms=66_666)])
    got, rebuilds = cached(str(db), cache_dir)
    assert (got, rebuilds) == (scan(str(db), tmp_path), 4)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM traces WHERE id = 'tr-00010'")
    got, rebuilds = cached(str(db), cache_dir)
    assert (got, rebuilds) == (scan(str(db), tmp_path), 4)


def test_a_live_store_object_folds_each_row_once(tmp_path: Path) -> None:
    """The dashboard keeps one store open: rows above the watermark are re-read on every
    query but counted once."""
    rows = fixture_rows()
    db = tmp_path / "gw.db"
    write_sqlite(db, rows)
    newest = max(r.created_at for r in rows)
    everything = AnalyticsFilter()

    async def run() -> None:
        store = await open_trace_store(str(db), latency_cache="memory")
        try:
            for step in range(4):
                write_sqlite(db, later(rows[:5], newest + timedelta(hours=step), step * 5,
                                       500 * step))
                for _ in range(2):
                    got = await store.latency_percentiles(everything, "model")
                    off = await open_trace_store(str(db), latency_cache="off")
                    try:
                        assert got == await off.latency_percentiles(everything, "model")
                    finally:
                        await off.close()
            assert store.latency_cache is not None
            assert store.latency_cache.rebuilds == 1
        finally:
            await store.close()

    asyncio.run(run())


def test_a_replaced_database_is_not_mistaken_for_the_old_one(tmp_path: Path) -> None:
    """Same path, same ids, same times, same count: other latencies. The file is new."""
    rows = fixture_rows()
    db = tmp_path / "gw.db"
    write_sqlite(db, rows)
    cached(str(db), tmp_path / "cache")
    other = tmp_path / "other.db"
    write_sqlite(other, [replace(r, latency_ms=r.latency_ms and r.latency_ms + 1)
                         for r in rows])
    other.replace(db)
    assert cached(str(db), tmp_path / "cache") == (scan(str(db), tmp_path), 4)


def test_a_corrupt_or_unwritable_cache_is_only_a_cache(tmp_path: Path) -> None:
    rows = fixture_rows()
    db = tmp_path / "gw.db"
    write_sqlite(db, rows)
    expected = scan(str(db), tmp_path)
    cache_dir = tmp_path / "cache"
    cached(str(db), cache_dir)
    (cache_file,) = (cache_dir / "trace-latency").glob("*.db")
    cache_file.write_bytes(b"this is not a database" * 100)
    for name in ("-wal", "-shm"):
        Path(f"{cache_file}{name}").unlink(missing_ok=True)
    assert cached(str(db), cache_dir)[0] == expected

    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory would go")
    got, rebuilds = cached(str(db), blocked)
    assert (got, rebuilds) == (expected, 4)
    assert cached(str(db), blocked)[1] == 4  # nothing could be kept: scanned again


def test_rows_the_text_order_cannot_place_fall_back_to_the_scan(tmp_path: Path) -> None:
    """A timestamp SQLite holds as a number has no day: bounded windows scan instead."""
    rows = fixture_rows(60)
    db = tmp_path / "gw.db"
    write_sqlite(db, rows)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE traces SET timestamp = 1777000000 WHERE id = 'tr-00004'")
    got, _ = cached(str(db), tmp_path / "cache")
    assert got == scan(str(db), tmp_path)


def test_two_processes_sharing_the_cache_file(tmp_path: Path) -> None:
    """Two stores (the dashboard and a headless command) fold and write the same file;
    whatever one leaves, a third reads back right."""
    rows = fixture_rows()
    db = tmp_path / "gw.db"
    write_sqlite(db, rows)
    cache_dir = tmp_path / "cache"
    newest = max(r.created_at for r in rows)
    everything = AnalyticsFilter()

    async def run() -> None:
        a = await open_trace_store(str(db), cache_dir=cache_dir)
        b = await open_trace_store(str(db), cache_dir=cache_dir)
        try:
            await a.latency_percentiles(everything, "model")
            await b.latency_percentiles(everything, "model")
            for step in range(3):
                write_sqlite(db, later(rows[:4], newest + timedelta(hours=step), step * 4,
                                       1000 + step))
                await asyncio.gather(a.latency_percentiles(everything, "model"),
                                     b.latency_percentiles(everything, "model"))
        finally:
            await a.close()
            await b.close()

    asyncio.run(run())
    got, _ = cached(str(db), cache_dir, [everything])
    assert got == scan(str(db), tmp_path, [everything])


@pytest.fixture(scope="module")
def pg_changing(pg_server: PgServer) -> str:
    return pg_server.create_database("latency_cache")


def test_postgres_follows_appends_and_a_truncate(pg_changing: str, tmp_path: Path) -> None:
    rows = fixture_rows()

    async def change(sql: str | None, new: list[Row]) -> None:
        """Run ``sql`` (a DROP or a TRUNCATE), then COPY ``new`` in (a new table
        after a DROP)."""
        from gateway_db import COLUMNS, pg_record

        conn = await asyncpg.connect(pg_changing)
        try:
            if sql:
                await conn.execute(sql)
            if sql and sql.startswith("DROP"):
                await write_postgres(pg_changing, new)
            else:
                await conn.copy_records_to_table(
                    "traces", records=[pg_record(r) for r in new], columns=list(COLUMNS))
        finally:
            await conn.close()

    cache_dir = tmp_path / "cache"
    asyncio.run(change("DROP TABLE IF EXISTS traces", rows))
    assert cached(pg_changing, cache_dir) == (scan(pg_changing, tmp_path), 4)
    newest = max(r.created_at for r in rows)
    appended = later(rows[:20], newest, 0, 4321)
    asyncio.run(change(None, appended))
    assert cached(pg_changing, cache_dir) == (scan(pg_changing, tmp_path), 0)
    # Same ids, times and count, other latencies: TRUNCATE gave the table a new file node.
    doubled = [replace(r, latency_ms=r.latency_ms and r.latency_ms * 2) for r in rows + appended]
    asyncio.run(change("TRUNCATE traces", doubled))
    assert cached(pg_changing, cache_dir) == (scan(pg_changing, tmp_path), 4)


times = st.integers(0, 8 * 86400).map(lambda s: BASE - timedelta(days=1)
                                      + timedelta(seconds=s))


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(since=st.one_of(st.none(), times), until=st.one_of(st.none(), times),
       group=st.sampled_from(GROUPS))
def test_any_window_any_group_on_sqlite(sqlite_fixture: str, tmp_path_factory:
                                        pytest.TempPathFactory, since: datetime | None,
                                        until: datetime | None, group: str) -> None:
    f = [AnalyticsFilter(since=since, until=until)]

    async def both() -> tuple[Any, Any]:
        on = await open_trace_store(sqlite_fixture, latency_cache="file",
                                    cache_dir=tmp_path_factory.getbasetemp() / "shared")
        off = await open_trace_store(sqlite_fixture, latency_cache="off")
        try:
            return (await on.latency_percentiles(f[0], group),
                    await off.latency_percentiles(f[0], group))
        finally:
            await on.close()
            await off.close()

    got, expected = asyncio.run(both())
    assert got == expected
