"""The gateway's SQLite trace store, read with aiosqlite and never written.

Opened with the URI ``mode=ro`` (and ``PRAGMA query_only``): tokentop reads the
gateway's database while the gateway writes it (WAL), and cannot add indexes, so
every query is written to use the gateway's own (seed 004's migrations): the list
walks ``idx_traces_created_at_id`` (or a ``<filter>_created_at_id`` one) from the
cursor, and analytics scan once with GROUP BY.

Times are text in the column, as Go's ``time.Time.String()`` writes them (see
store/traces/timefmt.py): comparisons bind text in the column's own style, with
nanoseconds, and the hour of a row is cut from the text when it is
UTC (exact, no parsing) or computed by SQLite's ``strftime`` when it carries another
offset.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiosqlite

from tokentop.store.sqlite_errors import describe
from tokentop.store.traces.base import BaseTraceStore, check_columns
from tokentop.store.traces.errors import TraceStoreError
from tokentop.store.traces.timefmt import Instant, TextStyle, parse_db_instant

BUSY_TIMEOUT_MS = 5000
CACHE_KIB = 65536
MMAP_BYTES = 1 << 30
TRACE_DB = "trace database"  # what the file is called in messages
SCAN_CHUNK = 100_000  # rowids per range of a parallel scan
SCAN_CONNECTIONS = 2  # ranges scanned at once (the machines this runs on have >= 2 cores)

# The UTC hour ("YYYY-MM-DD HH", or with "T") of the text in ``timestamp``. UTC text
# (Z, +00:00, "+0000 UTC", or no offset) is cut; other offsets go through strftime,
# after Go's time.String() form ("... -0700 MST") is rewritten to "...-07:00".
_TAIL = "substr(timestamp, 20)"
_GO_POS = f"instr({_TAIL}, ' ')"
_NORMALISED = (
    f"CASE WHEN {_TAIL} GLOB '* [+-][0-9][0-9][0-9][0-9]*' THEN "
    f"substr(timestamp, 1, 18 + {_GO_POS}) || substr({_TAIL}, {_GO_POS} + 1, 3) || ':' "
    f"|| substr({_TAIL}, {_GO_POS} + 4, 2) ELSE timestamp END"
)
_GENERAL_HOUR = (
    f"CASE WHEN {_TAIL} NOT GLOB '*[+-]*' OR {_TAIL} GLOB '*[+-]00:00' "
    f"OR {_TAIL} GLOB '*[+-]0000*' "
    "THEN substr(timestamp, 1, 13) "
    f"ELSE strftime('%Y-%m-%d %H', {_NORMALISED}) END"
)
# The gateway's own form (Go's time.String() of a UTC time, "... +0000 UTC", what
# modernc.org/sqlite writes by default), then "+00:00" (the driver's _time_format=sqlite)
# and RFC 3339's "Z" are tested first: cheap, and nearly all rows.
HOUR_SQL = (
    "CASE WHEN substr(timestamp, -10) = ' +0000 UTC' OR substr(timestamp, -6) = '+00:00' "
    "OR substr(timestamp, -1) = 'Z' "
    f"THEN substr(timestamp, 1, 13) ELSE {_GENERAL_HOUR} END"
)

# The day of a row for the latency cache: the first ten characters of its text, so a
# bound's day compares with it exactly as the bound compares with the text itself.
DAY_SQL = "CASE WHEN typeof(timestamp) = 'text' THEN substr(timestamp, 1, 10) ELSE '' END"


class SQLiteTraceStore(BaseTraceStore):
    """A read-only aiosqlite connection to a gateway ``traces`` table."""

    backend = "sqlite"

    def __init__(self, path: Path, conn: aiosqlite.Connection) -> None:
        self.path = path
        self.display = str(path)
        self._conn = conn
        self._styles: dict[str, TextStyle] = {
            "timestamp": TextStyle(), "created_at": TextStyle()}

    @classmethod
    async def open(cls, target: str) -> SQLiteTraceStore:
        path = Path(target).expanduser()
        if not path.exists():
            raise TraceStoreError(f"trace database not found: {path}")
        if path.is_dir():
            raise TraceStoreError(f"is a directory, not a trace database: {path}")
        conn = await _connect(path)
        store = cls(path, conn)
        try:
            rows = await store._fetch("SELECT name FROM pragma_table_info('traces')")
            check_columns({r[0] for r in rows}, str(path))
            sample = await store._fetch(
                "SELECT timestamp, created_at FROM traces ORDER BY created_at DESC, id DESC "
                "LIMIT 1")
            if sample:
                ts, created = sample[0]
                store._styles = {"timestamp": TextStyle.sniff(_text(ts)),
                                 "created_at": TextStyle.sniff(_text(created))}
        except BaseException:
            await conn.close()
            raise
        return store

    async def _close(self) -> None:
        await self._conn.close()

    def identity(self) -> str:
        return f"sqlite:{self.path.resolve()}"

    async def incarnation(self) -> str:
        """The file's device and inode: a database copied or restored over it is new."""
        try:
            st = self.path.stat()
        except OSError as e:
            raise TraceStoreError(f"cannot read trace database: {self.path} ({e.strerror})"
                                  ) from None
        return f"{st.st_dev}:{st.st_ino}"

    async def version(self) -> str:
        """SQLite's ``PRAGMA data_version``: changes when another connection commits."""
        rows = await self._fetch("PRAGMA data_version")
        return str(rows[0][0])

    async def _fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Sequence[Any]]:
        try:
            async with self._conn.execute(sql, tuple(args)) as cur:
                return list(await cur.fetchall())
        except sqlite3.Error as e:
            raise TraceStoreError(describe(e, self.path, TRACE_DB)) from None

    async def _fetch_grouped(self, select: str, where: str, args: Sequence[Any],
                             group_by: str) -> list[Sequence[Any]]:
        """The scan in rowid ranges on :data:`SCAN_CONNECTIONS` extra connections at once.

        SQLite's GROUP BY is a sort of every row (2 s of a 3 s scan over 1M traces)
        on one core; ranges sort in parallel (sqlite3 releases the GIL while it
        works), and the store's own connection stays free for the screen's other
        queries meanwhile. The caller sums groups that repeat across ranges.
        """
        bounds = await self._fetch("SELECT MIN(rowid), MAX(rowid) FROM traces")
        low, high = bounds[0] if bounds else (None, None)
        if low is None or high - low < 2 * SCAN_CHUNK:
            return await super()._fetch_grouped(select, where, args, group_by)
        ranges = asyncio.Queue[tuple[int, int]]()
        for start in range(low - 1, high, SCAN_CHUNK):
            ranges.put_nowait((start, min(start + SCAN_CHUNK, high)))
        sql = (f"SELECT {select} FROM traces WHERE ({where}) AND rowid > ? AND rowid <= ? "
               f"GROUP BY {group_by}")
        out: list[Sequence[Any]] = []

        async def scan() -> None:
            conn = await _connect(self.path)
            try:
                while not ranges.empty():
                    start, end = ranges.get_nowait()
                    try:
                        async with conn.execute(sql, (*args, start, end)) as cur:
                            out.extend(await cur.fetchall())
                    except sqlite3.Error as e:
                        raise TraceStoreError(describe(e, self.path, TRACE_DB)) from None
            finally:
                await conn.close()

        await asyncio.gather(*(scan() for _ in range(SCAN_CONNECTIONS)))
        return out

    def _hour_sql(self) -> str:
        return HOUR_SQL

    def _bind_time(self, column: str, when: datetime | Instant) -> Any:
        return self._styles[column].format(when)

    def _day_sql(self) -> str:
        return DAY_SQL

    def _day_key(self, when: datetime) -> str:
        return str(self._bind_time("timestamp", when))[:10]

    def _day_range(self, key: str) -> tuple[Any, Any]:
        """Every text starting with ``key`` (BINARY order): [key, key with its last
        character incremented)."""
        return key, key[:-1] + chr(ord(key[-1]) + 1)

    def _raw_key(self, raw: Any) -> Any:
        """SQLite's order: NULL, numbers, text (UTF-8 bytes), blobs."""
        if raw is None:
            return (0, 0)
        if isinstance(raw, int | float):
            return (1, raw)
        if isinstance(raw, str):
            return (2, raw.encode("utf-8", "surrogatepass"))
        return (3, bytes(raw))

    async def _cursor_bound(self, created_at: Instant, trace_id: str) -> Any:
        """The stored text of the cursor's row when it is the cursor's instant (exact,
        whatever its style); else the instant in the column's style, which for the
        gateway's rows is the very text it binds (``createdAt.UTC()``, Go's String)."""
        rows = await self._fetch("SELECT created_at FROM traces WHERE id = ?", [trace_id])
        if rows and rows[0][0] is not None:
            stored = _text(rows[0][0])
            try:
                if stored is not None and parse_db_instant(stored) == created_at:
                    return stored
            except ValueError:
                pass
        return self._bind_time("created_at", created_at)

    def _time(self, value: Any) -> datetime | None:
        """A stored time; None when no known spelling matches (one odd row must not
        break a page: the list shows it without a time rather than failing)."""
        instant = self._instant(value)
        return None if instant is None else instant.to_datetime()

    def _instant(self, value: Any) -> Instant | None:
        text = _text(value)
        if text is None:
            return None
        try:
            return parse_db_instant(text)
        except ValueError:
            return None

    def _select(self, field: str) -> str:
        return field


async def _connect(path: Path) -> aiosqlite.Connection:
    """A read-only connection to the gateway's file, tuned for scans."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = await aiosqlite.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as e:
        raise TraceStoreError(describe(e, path, TRACE_DB)) from None
    try:
        for pragma in ("query_only = 1", f"busy_timeout = {BUSY_TIMEOUT_MS}",
                       f"cache_size = -{CACHE_KIB}", f"mmap_size = {MMAP_BYTES}"):
            await conn.execute(f"PRAGMA {pragma}")
    except sqlite3.Error as e:
        await conn.close()
        raise TraceStoreError(describe(e, path, TRACE_DB)) from None
    return conn


def _text(value: Any) -> str | None:
    """A DATETIME cell as text (NUMERIC affinity can hand back a number)."""
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)
