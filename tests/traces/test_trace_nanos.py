"""Times at the gateway's precision: nanoseconds in SQLite text, cursors and --from/--to.

What the gateway does, read in ongoingai/gateway internal/trace/sqlite.go (commit
f56ac42): it opens SQLite with modernc.org/sqlite and no ``_time_format``, so every
``time.Time`` it binds is written with Go's ``time.Time.String()``
(``2026-03-09 22:00:00.512345678 +0000 UTC``, fraction trimmed; the writer,
cmd/ongoingai/trace_capture.go, passes ``time.Now().UTC()``). ``QueryTraces`` orders by
``created_at DESC, id DESC``, and its cursor is ``base64url(created_at.RFC3339Nano |
id)`` (``encodeTraceCursor``); the next page binds ``createdAt.UTC()`` (String again)
in ``created_at < ? OR (created_at = ? AND id < ?)``, and ``--from``/``--to`` bind
``From.UTC()``/``To.UTC()`` against ``timestamp``. The fixtures below are written in
that text, with several traces inside one microsecond.

On PostgreSQL (``postgres.go``, pgx) TIMESTAMPTZ holds microseconds and pgx truncates
a bound's nanoseconds: tokentop must do the same there.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from gateway_db import COLUMNS, fixture_rows, sqlite_values, write_postgres, write_sqlite
from pg_server import PgServer

from tokentop.store.traces import TraceFilter, open_trace_store
from tokentop.store.traces.cursor import encode_cursor

ROOT = Path(__file__).resolve().parents[2]
SECOND = "2026-03-09 22:00:00"
# (id, nanoseconds of created_at after SECOND): three traces in one microsecond, a tie
# on the very same nanosecond (broken by id), a whole second (no fraction at all).
NANOS = [("a", 512_345_677), ("b", 512_345_678), ("c", 512_345_678), ("d", 512_345_679),
         ("e", 512_346_000), ("f", 0), ("g", 500_000_000), ("h", 512_345_000)]


def go_text(nanos: int) -> str:
    """Go's time.Time.String() of SECOND + nanos in UTC, written out by hand."""
    frac = f"{nanos:09d}".rstrip("0")
    return f"{SECOND}{'.' + frac if frac else ''} +0000 UTC"


def go_cursor(nanos: int, trace_id: str) -> str:
    """encodeTraceCursor: RFC3339Nano (trimmed, Z) | id, base64url without padding."""
    frac = f"{nanos:09d}".rstrip("0")
    raw = f"{SECOND.replace(' ', 'T')}{'.' + frac if frac else ''}Z|{trace_id}"
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def gateway_order() -> list[tuple[str, int]]:
    """ORDER BY created_at DESC, id DESC (the text sorts as the instants do)."""
    return sorted(NANOS, key=lambda t: (t[1], t[0]), reverse=True)


@pytest.fixture
def nano_db(tmp_path: Path) -> str:
    """The gateway's schema (its migrations), rows written as its Go driver writes them."""
    path = tmp_path / "ongoingai.db"
    write_sqlite(path, [])
    base = fixture_rows(1)[0]
    conn = sqlite3.connect(path)
    try:
        for trace_id, nanos in NANOS:
            values = list(sqlite_values(replace(base, id=trace_id)))
            values[COLUMNS.index("timestamp")] = go_text(nanos)
            values[COLUMNS.index("created_at")] = go_text(nanos)
            conn.execute(f"INSERT INTO traces ({', '.join(COLUMNS)}) "
                         f"VALUES ({', '.join('?' * len(COLUMNS))})", values)
        conn.commit()
        stored = conn.execute("SELECT created_at FROM traces WHERE id = 'b'").fetchone()[0]
        assert stored == "2026-03-09 22:00:00.512345678 +0000 UTC"
    finally:
        conn.close()
    return str(path)


async def pages(target: str, limit: int, **filters: object) -> list[tuple[list[str], str]]:
    store = await open_trace_store(target, latency_cache="off")
    out: list[tuple[list[str], str]] = []
    cursor = None
    try:
        while True:
            page = await store.query_traces(TraceFilter(cursor=cursor, limit=limit,
                                                        **filters))  # type: ignore[arg-type]
            out.append(([t.id for t in page.items], page.next_cursor or ""))
            if page.next_cursor is None:
                return out
            cursor = page.next_cursor
    finally:
        await store.close()


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_paging_inside_one_microsecond_is_the_gateways(nano_db: str, limit: int) -> None:
    """Every page boundary, including between traces of one microsecond: no trace
    skipped or repeated, and every next_cursor is the gateway's, byte for byte."""
    order = gateway_order()
    got = asyncio.run(pages(nano_db, limit))
    assert [i for ids, _ in got for i in ids] == [i for i, _ in order]
    for n, (ids, cursor) in enumerate(got[:-1]):
        last_id, last_nanos = order[(n + 1) * limit - 1]
        assert ids[-1] == last_id
        assert cursor == go_cursor(last_nanos, last_id)
    assert got[-1][1] == ""


def test_a_cursor_whose_row_is_gone_still_bounds_at_the_nanosecond(nano_db: str) -> None:
    """A gateway cursor of a trace no longer in the table (nothing to look up): the bound
    is the cursor's own instant, nine digits, not one rounded to the microsecond."""
    async def after(cursor: str) -> list[str]:
        store = await open_trace_store(nano_db, latency_cache="off")
        try:
            return [t.id for t in (await store.query_traces(
                TraceFilter(cursor=cursor, limit=50))).items]
        finally:
            await store.close()

    # (…678, "bz"): "c" (same ns, id "c" > "bz") comes before it; "b", "a" after
    got = asyncio.run(after(go_cursor(512_345_678, "bz")))
    assert got == ["b", "a", "h", "g", "f"]
    got = asyncio.run(after(go_cursor(512_345_677, "zz")))
    assert got == ["a", "h", "g", "f"]


def test_from_to_compare_at_the_nanosecond(nano_db: str) -> None:
    """--from/--to are bound as the gateway binds From.UTC()/To.UTC(): Go's String()."""
    async def ids(**bounds: object) -> list[str]:
        store = await open_trace_store(nano_db, latency_cache="off")
        try:
            page = await store.query_traces(TraceFilter(limit=50, **bounds))  # type: ignore
            return sorted(t.id for t in page.items)
        finally:
            await store.close()

    from tokentop.store.traces.timefmt import parse_user_instant

    at = parse_user_instant("2026-03-09T22:00:00.512345678Z")
    assert asyncio.run(ids(since=at)) == ["b", "c", "d", "e"]
    assert asyncio.run(ids(until=at)) == ["a", "b", "c", "f", "g", "h"]
    # the same through the headless command, in another offset
    proc = subprocess.run(
        [sys.executable, "-m", "tokentop.tui.cli", "traces", nano_db, "list",
         "--from", "2026-03-09T23:00:00.512345678+01:00",
         "--to", "2026-03-09T22:00:00.512345679Z"],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert sorted(t["id"] for t in json.loads(proc.stdout)["items"]) == ["b", "c", "d"]


def test_cursor_from_the_cli_is_the_gateways(nano_db: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tokentop.tui.cli", "traces", nano_db, "list", "--limit", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [t["id"] for t in doc["items"]] == ["e", "d"]
    assert doc["next_cursor"] == go_cursor(512_345_679, "d")


def test_postgres_truncates_to_the_microsecond_as_pgx(pg_server: PgServer) -> None:
    """TIMESTAMPTZ keeps microseconds; a nanosecond bound is truncated as pgx does, and
    the cursor carries the microseconds the row holds."""
    base = fixture_rows(1)[0]
    from tokentop.store.traces.timefmt import Instant, parse_user_instant

    def at(micros: int) -> Instant:
        return parse_user_instant(f"2026-03-09T22:00:00.{micros:06d}Z")

    rows = [replace(base, id=i, timestamp=at(us).to_datetime(), created_at=at(us).to_datetime())
            for i, us in (("a", 512_344), ("b", 512_345), ("c", 512_345), ("d", 512_346))]
    dsn = pg_server.create_database("nanos")
    asyncio.run(write_postgres(dsn, rows))

    async def run() -> None:
        store = await open_trace_store(dsn)
        try:
            since = parse_user_instant("2026-03-09T22:00:00.512345999Z")
            page = await store.query_traces(TraceFilter(since=since, limit=50))
            assert sorted(t.id for t in page.items) == ["b", "c", "d"]  # .512345 kept
            first = await store.query_traces(TraceFilter(limit=2))
            assert [t.id for t in first.items] == ["d", "c"]
            assert first.next_cursor == encode_cursor(at(512_345), "c")
            rest = await store.query_traces(TraceFilter(cursor=first.next_cursor, limit=50))
            assert [t.id for t in rest.items] == ["b", "a"]
        finally:
            await store.close()

    asyncio.run(run())
