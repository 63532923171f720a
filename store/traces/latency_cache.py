"""Per-day latency histograms kept beside a gateway store: percentiles by merge, not scan.

Why: the gateway's schema has no index holding ``latency_ms`` and tokentop opens the
gateway's database read-only, so a percentile query over weeks of traces must read
every row, bodies and all (2.6 s for 1,000,000 traces with 1 KB bodies on SQLite).
Latencies are whole milliseconds, so a histogram (distinct value -> count) is exact:
merging histograms gives the very numbers the scan gives, on both backends.

Layout, per grouping column (a *dim*: provider, model, route or key): per day of
``timestamp`` and per group, the sorted distinct latencies with their counts. The
day is the first ten characters of the stored text on SQLite (so a bound compares
with a day exactly as it compares with the column's text, whatever offset a row was
written with) and the UTC date on PostgreSQL. A query takes the days strictly inside
its window from here and reads its two edge days from the store (an index range).

Freshness: the gateway only inserts traces (seed 004 has no update or delete). Rows
are folded in by ``created_at`` above a watermark ``W`` that trails the newest row by
:data:`LAG`, so rows committed slightly out of order are still seen; the rows above
``W`` are re-read on every query and folded once (their ids are remembered). Before
each use, one statement checks that the rows at or below ``W`` are exactly as many as
were folded: a row removed, or one that appeared below ``W``, or a replaced database,
shows as a mismatch and the dim is rebuilt from one scan.

Persistence: a small SQLite file per store in tokentop's state directory, so a
headless command run again, or the dashboard started again, is warm. The file is only
a cache: if it cannot be read or written, everything works from memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
from array import array
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import msgspec

from tokentop.store.traces.backend import TraceBackend
from tokentop.store.traces.numbers import as_int
from tokentop.store.traces.timefmt import Instant

LAG = timedelta(seconds=60)
SCHEMA = 1
ODD_DAY = ""  # the day of a timestamp SQLite holds as a number or blob
BUSY_MS = 2000
TENANT_DIM = "@tenant"  # a dim's name suffix: its groups are tenant-prefixed
SEP = "\x1f"  # between org_id, workspace_id and the group in a tenant dim's group

# group -> (sorted distinct latencies, their counts)
Groups = dict[str, tuple[array, array]]


class DimState(msgspec.Struct, kw_only=True):
    """What is folded into one dim, as stored in the cache file's meta row."""

    schema: int = SCHEMA
    watermark: Any = None  # a raw created_at (tagged for JSON), None: nothing at or below
    folded_below: int = 0  # rows (NULL latencies too) with created_at <= watermark or NULL
    # folded rows above it: DimCache.recent, written out by _save (read back by _load)
    recent: list[str] = msgspec.field(default_factory=list)
    origin: str = ""  # the store's incarnation and its oldest row (see ``_origin``)
    generation: int = 0


def _tag(raw: Any) -> Any:
    """A raw created_at as JSON: text and numbers as they are, datetimes tagged."""
    if isinstance(raw, datetime):
        return {"t": raw.isoformat()}
    if isinstance(raw, bytes):
        return {"b": raw.hex()}
    return raw


def _untag(value: Any) -> Any:
    if isinstance(value, dict):
        if "t" in value:
            return datetime.fromisoformat(value["t"])
        if "b" in value:
            return bytes.fromhex(value["b"])
    return value


def _pack(counts: dict[int, int]) -> tuple[array, array]:
    keys = sorted(counts)
    return array("q", keys), array("q", (counts[k] for k in keys))


def _add(into: dict[int, int], values: Iterable[int], counts: Iterable[int]) -> None:
    get = into.get
    for v, c in zip(values, counts, strict=True):
        into[v] = get(v, 0) + c


class DimCache:
    """The histograms of one dim, in memory."""

    def __init__(self, dim: str, state: DimState, days: dict[str, Groups]) -> None:
        self.dim = dim
        self.state = state
        self.days = days
        self.recent = set(state.recent)

    def merge(self, lo: str | None, hi: str | None, with_odd: bool
              ) -> dict[str, dict[int, int]]:
        """Per group, the counts of the days strictly between ``lo`` and ``hi``."""
        out: dict[str, dict[int, int]] = {}
        for day, groups in self.days.items():
            if day == ODD_DAY:
                if not with_odd:
                    continue
            elif (lo is not None and day <= lo) or (hi is not None and day >= hi):
                continue
            for g, (values, counts) in groups.items():
                _add(out.setdefault(g, {}), values, counts)
        return out

    def fold(self, rows: Iterable[tuple[str, str, int]]) -> set[tuple[str, str]]:
        """Add (day, group, latency) rows; the (day, group) cells touched."""
        delta: dict[tuple[str, str], dict[int, int]] = {}
        for day, g, latency in rows:
            cell = delta.setdefault((day, g), {})
            cell[latency] = cell.get(latency, 0) + 1
        for (day, g), counts in delta.items():
            groups = self.days.setdefault(day, {})
            if g in groups:
                _add(counts, *groups[g])
            groups[g] = _pack(counts)
        return set(delta)

    @property
    def has_odd(self) -> bool:
        return bool(self.days.get(ODD_DAY))


class LatencyCache:
    """The dims of one store; ``histogram`` is the only entry point."""

    def __init__(self, store: TraceBackend, path: Path | None) -> None:
        self.store = store
        self.path = path
        self.dims: dict[str, DimCache] = {}
        self._lock = asyncio.Lock()
        self._db: aiosqlite.Connection | None = None
        self._db_failed = path is None
        self.rebuilds = 0  # scans of the whole store (for tests and the benchmark)

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    async def histogram(self, column: str, since: datetime | Instant | None,
                        until: datetime | Instant | None,
                        org_id: str | None = None, workspace_id: str | None = None
                        ) -> dict[str, dict[int, int]] | None:
        """Per group of ``column``, latency -> count of the rows with ``since <=
        timestamp <= until`` (and of that org/workspace, when given); None when only
        a scan can answer exactly.

        A tenant scope reads the column's *tenant dim*: the same histograms with the
        group prefixed by ``org_id`` and ``workspace_id`` (:func:`tenant_group`), so
        one cache serves every tenant of a multi-tenant gateway.
        """
        since_dt = None if since is None else Instant.of(since).to_datetime()
        until_dt = None if until is None else Instant.of(until).to_datetime()
        if since_dt is not None and until_dt is not None and (
                until_dt.date() - since_dt.date()).days <= 1:
            return None  # no whole day inside: the store's timestamp index does it all
        scoped = bool(org_id or workspace_id)
        dim = f"{column}{TENANT_DIM}" if scoped else column
        store = self.store
        lo = None if since_dt is None else store._day_key(since_dt)
        hi = None if until_dt is None else store._day_key(until_dt)
        bounded = lo is not None or hi is not None
        async with self._lock:  # held while merging: a fold must not change the days
            cache = await self._synced(dim)
            if cache is None or (bounded and cache.has_odd):
                return None  # rows whose day is unknown: only the scan compares them right
            # In a thread: a month of days is ~10^5 pairs, the UI's loop must not wait.
            out = await asyncio.to_thread(cache.merge, lo, hi, not bounded)
        for day in sorted({d for d in (lo, hi) if d is not None}):
            for g, value, n in await self._edge(dim, day, since, until):
                cell = out.setdefault(g or "", {})
                cell[int(value)] = cell.get(int(value), 0) + int(n)
        return _in_tenant(out, org_id, workspace_id) if scoped else out

    def _dim_sql(self, dim: str) -> str:
        """The group expression of a dim: the column's, tenant-prefixed for a tenant dim."""
        if dim.endswith(TENANT_DIM):
            column = self.store._group_sql(dim[: -len(TENANT_DIM)])
            return (f"COALESCE(org_id, '') || '{SEP}' || COALESCE(workspace_id, '') || "
                    f"'{SEP}' || {column}")
        return self.store._group_sql(dim)

    async def _edge(self, dim: str, day: str, since: datetime | Instant | None,
                    until: datetime | Instant | None) -> list[Sequence[Any]]:
        """The histogram of the window's part of one edge day, read from the store.

        The tighter of each pair of bounds is chosen here: given both, SQLite may
        walk the index from the looser one (a whole window instead of a day).
        """
        store = self.store
        key = store._raw_key
        start, end = store._day_range(day)
        lower, upper = "timestamp >= ?", "timestamp < ?"
        if since is not None:
            bound = store._bind_time("timestamp", since)
            if key(bound) > key(start):
                start = bound
        if until is not None:
            bound = store._bind_time("timestamp", until)
            if key(bound) < key(end):
                end, upper = bound, "timestamp <= ?"
        return await store._fetch(
            f"SELECT {self._dim_sql(dim)}, latency_ms, COUNT(*) FROM traces "
            f"WHERE latency_ms IS NOT NULL AND {lower} AND {upper} GROUP BY 1, 2",
            [start, end])

    # -- keeping a dim current ---------------------------------------------------------

    async def _synced(self, column: str) -> DimCache | None:
        """The dim, current; None if the store kept changing under three rebuilds."""
        cache = self.dims.get(column)
        if cache is None:
            cache = await self._load(column)
        if cache is not None and await self._catch_up(cache, save=True):
            return cache
        self.dims.pop(column, None)
        for _attempt in range(3):
            cache = await self._build(column)
            if await self._catch_up(cache, save=False):
                self.dims[column] = cache
                await self._save(cache, full=True)
                return cache
        return None

    def _above(self, watermark: Any) -> tuple[str, list[Any]]:
        if watermark is None:
            return "created_at IS NOT NULL", []
        return "created_at > ?", [watermark]

    async def _catch_up(self, cache: DimCache, save: bool) -> bool:
        """Fold the rows above the watermark; False when the dim must be rebuilt."""
        store = self.store
        state = cache.state
        above, args = self._above(state.watermark)
        counted = await store._fetch(
            "SELECT (SELECT COUNT(*) FROM traces), "
            f"(SELECT COUNT(*) FROM traces WHERE {above}), "
            "(SELECT id FROM traces ORDER BY created_at, id LIMIT 1)", args)
        total, n_above, oldest = counted[0]
        if int(total or 0) - int(n_above or 0) != state.folded_below:
            return False
        if await self._origin(oldest) != state.origin:
            return False  # another database at the same place (replaced, restored)
        rows = await store._fetch(
            f"SELECT id, created_at, {store._day_sql()}, {self._dim_sql(cache.dim)}, "
            f"latency_ms FROM traces WHERE {above}", args)
        marks = [_mark(r) for r in rows]
        if not cache.recent <= set(marks):
            return False  # a folded row is gone
        fresh = [r for r, m in zip(rows, marks, strict=True) if m not in cache.recent]
        touched = cache.fold((r[2] or ODD_DAY, r[3] or "", int(r[4]))
                             for r in fresh if r[4] is not None)
        watermark = self._advance(state.watermark, (r[1] for r in rows))
        if watermark is not state.watermark:
            key = store._raw_key
            bound = key(watermark)
            state.folded_below += sum(1 for r in rows if key(r[1]) <= bound)
            cache.recent = {m for r, m in zip(rows, marks, strict=True) if key(r[1]) > bound}
            state.watermark = watermark
        else:
            cache.recent = set(marks)
        if save and fresh:
            await self._save(cache, full=False, cells=touched)
        return True

    async def _origin(self, oldest_id: Any) -> str:
        return f"{await self.store.incarnation()}|{oldest_id}"

    def _advance(self, watermark: Any, raws: Iterable[Any]) -> Any:
        """The new watermark: LAG behind the newest parseable created_at, never back."""
        store = self.store
        times = [t for t in (store._time(r) for r in raws) if t is not None]
        if not times:
            return watermark
        candidate = store._bind_time("created_at", max(times) - LAG)
        if watermark is not None and store._raw_key(candidate) <= store._raw_key(watermark):
            return watermark
        return candidate

    async def _build(self, column: str) -> DimCache:
        """One scan of the rows at or below a watermark LAG behind the newest row."""
        store = self.store
        self.rebuilds += 1
        newest = await store._fetch(
            "SELECT created_at FROM traces ORDER BY created_at DESC, id DESC LIMIT 1")
        watermark = self._advance(None, [newest[0][0]] if newest else [])
        if watermark is None:
            below, args = "created_at IS NULL", []
        else:
            below, args = "(created_at IS NULL OR created_at <= ?)", [watermark]
        rows = await store._fetch_grouped(
            f"{store._day_sql()}, {self._dim_sql(column)}, latency_ms, COUNT(*)",
            below, args, "1, 2, 3")
        folded, days = await asyncio.to_thread(_histograms, rows)  # ~4*10^5 rows
        oldest = await store._fetch("SELECT id FROM traces ORDER BY created_at, id LIMIT 1")
        state = DimState(watermark=watermark, folded_below=folded,
                         origin=await self._origin(oldest[0][0] if oldest else None))
        return DimCache(column, state, days)

    # -- the cache file ----------------------------------------------------------------

    async def _open(self) -> aiosqlite.Connection | None:
        if self._db is not None or self._db_failed:
            return self._db
        path = self.path
        assert path is not None
        for attempt in range(2):
            try:
                # 0700/0600 as the usage store: group names are models, routes, keys
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
                self._db = await _connect_cache(path)
                return self._db
            except sqlite3.DatabaseError:
                if attempt == 0:  # not a database (any more): start it again
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{path}{suffix}").unlink(missing_ok=True)
            except (OSError, sqlite3.Error):
                break
        self._db_failed = True  # only a cache: go on from memory
        return None

    async def _load(self, column: str) -> DimCache | None:
        db = await self._open()
        if db is None:
            return None
        try:
            async with db.execute("SELECT state FROM meta WHERE dim = ?", (column,)) as cur:
                meta = await cur.fetchone()
            if meta is None:
                return None
            state = msgspec.json.decode(meta[0], type=DimState)
            if state.schema != SCHEMA:
                return None
            state.watermark = _untag(state.watermark)
            days: dict[str, Groups] = {}
            async with db.execute("SELECT day, grp, vals, cnts FROM part WHERE dim = ?",
                                  (column,)) as cur:
                async for day, g, vals, cnts in cur:
                    values, counts = array("q"), array("q")
                    values.frombytes(vals)
                    counts.frombytes(cnts)
                    if len(values) != len(counts):
                        return None
                    days.setdefault(day, {})[g] = (values, counts)
        except (sqlite3.Error, msgspec.DecodeError, ValueError, TypeError):
            return None  # unreadable: rebuilt and rewritten
        cache = DimCache(column, state, days)
        self.dims[column] = cache
        return cache

    async def _save(self, cache: DimCache, full: bool,
                    cells: Sequence[tuple[str, str]] | set[tuple[str, str]] = ()) -> None:
        """Write the dim (or the cells touched) and its state in one transaction. If
        another process wrote this dim since, the whole dim is written instead."""
        db = await self._open()
        if db is None:
            return
        state = cache.state
        try:
            await db.execute("BEGIN IMMEDIATE")
            try:
                async with db.execute("SELECT state FROM meta WHERE dim = ?",
                                      (cache.dim,)) as cur:
                    meta = await cur.fetchone()
                on_file = None
                if meta is not None:
                    try:
                        on_file = msgspec.json.decode(meta[0], type=DimState).generation
                    except (msgspec.DecodeError, ValueError, TypeError):
                        on_file = None
                if on_file != state.generation:
                    full = True
                if full:
                    await db.execute("DELETE FROM part WHERE dim = ?", (cache.dim,))
                    cells = [(d, g) for d, groups in cache.days.items() for g in groups]
                await db.executemany(
                    "INSERT OR REPLACE INTO part VALUES (?, ?, ?, ?, ?)",
                    [(cache.dim, d, g, cache.days[d][g][0].tobytes(),
                      cache.days[d][g][1].tobytes()) for d, g in cells])
                state.generation = max(state.generation, on_file or 0) + 1
                stored = msgspec.structs.replace(state, watermark=_tag(state.watermark),
                                                 recent=sorted(cache.recent))
                await db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                                 (cache.dim, msgspec.json.encode(stored)))
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise
        except sqlite3.Error:
            state.generation = -1  # not written: the next save writes everything
            return


def _histograms(rows: Iterable[Sequence[Any]]) -> tuple[int, dict[str, Groups]]:
    """(day, group, latency, count) rows, parts of which may repeat: the rows counted
    (NULL latencies too) and the packed histograms."""
    folded = 0
    per_cell: dict[tuple[str, str], dict[int, int]] = {}
    for day, g, value, n in rows:
        folded += int(n)
        ms = None if value is None else as_int(value)  # text or a BLOB: not a latency
        if ms is not None:
            cell = per_cell.setdefault((day or ODD_DAY, g or ""), {})
            cell[ms] = cell.get(ms, 0) + int(n)
    days: dict[str, Groups] = {}
    for (day, g), counts in per_cell.items():
        days.setdefault(day, {})[g] = _pack(counts)
    return folded, days


async def _connect_cache(path: Path) -> aiosqlite.Connection:
    db = await aiosqlite.connect(path, timeout=BUSY_MS / 1000, isolation_level=None)
    try:
        await db.executescript(
            "PRAGMA journal_mode=WAL;"
            "CREATE TABLE IF NOT EXISTS meta (dim TEXT PRIMARY KEY, state BLOB NOT NULL);"
            "CREATE TABLE IF NOT EXISTS part (dim TEXT NOT NULL, day TEXT NOT NULL,"
            " grp TEXT NOT NULL, vals BLOB NOT NULL, cnts BLOB NOT NULL,"
            " PRIMARY KEY (dim, day, grp)) WITHOUT ROWID;")
    except BaseException:
        await db.close()
        raise
    return db


def _in_tenant(groups: dict[str, dict[int, int]], org_id: str | None,
               workspace_id: str | None) -> dict[str, dict[int, int]]:
    """The tenant dim's groups of one org and/or workspace, prefix dropped, merged."""
    out: dict[str, dict[int, int]] = {}
    for key, counts in groups.items():
        org, _, rest = key.partition(SEP)
        workspace, _, group = rest.partition(SEP)
        if (org_id and org != org_id) or (workspace_id and workspace != workspace_id):
            continue
        _add(out.setdefault(group, {}), counts.keys(), counts.values())
    return out


def _mark(row: Sequence[Any]) -> str:
    """A folded row above the watermark: its id and created_at (ids alone can repeat
    when a test rewrites a store)."""
    return f"{row[0]}\x1f{row[1]!r}"


def cache_path(state_dir: Path, identity: str) -> Path:
    """One file per store, named by a hash of what identifies it (no secrets in names)."""
    digest = hashlib.sha256(identity.encode()).hexdigest()[:20]
    return state_dir / "trace-latency" / f"{digest}.db"
