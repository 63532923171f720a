"""The status line's snapshot (``glance.snapshot(glance.read_glance(...))``) without
loading the read model or the price table.

Why: ``tokentop statusline`` is a new process on every Claude Code message, and
importing the read model (``read``, ``reports``, ``rollup``, ``schema``: dataclasses,
msgspec, platformdirs, the price table's 400 KB JSON) cost it ~60 ms before it read a
row, against a 50 ms budget. This module runs the same statements as ``glance.read_glance``
over tokentop's own store and prices their rows from the compiled price cache
(``tokentop.store.pricing_cache``), importing only sqlite3, datetime and the SQL
fragments of ``semantics``.

It answers only where it is certain to agree with the read model: tokentop's own store
with every ``tokentop_*`` column and a rollup built with the table in force. Anything
else (openusage's store, one an older tokentop migrated, a store that cannot be
opened plainly read-only) returns ``None`` and the caller asks the read model, which
also words any error. The SQL text is the read model's, character for character, and
the rows are added in the same order, so the sums are the same floats:
tests/usage/test_statusline_fast.py checks the statements against ``read``'s builders
and the snapshot against ``read_glance``'s over stores with every pricing case.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from tokentop.store.pricing_cache import CompiledPrices
from tokentop.store.usage.groupsql import (
    BLOCK_ROW_SQL,
    HOUR,
    USAGE_TYPES,
    fast_ts,
    hour_entry_sql,
    range_sql,
    rollup_sql,
    sums_sql,
)
from tokentop.store.usage.quotas import latest_quotas
from tokentop.store.usage.semantics import calc_of, calc_sql

# Copies of the read model's constants (the test asserts each equals its original).
BLOCK = timedelta(hours=5)  # reports.BLOCK
ROLLUP_BLOCK_LOOKBACK = timedelta(days=7)  # read.ROLLUP_BLOCK_LOOKBACK
HOUR_TABLE, DAY_TABLE = "usage_rollup_hour", "usage_rollup_day"  # rollup.HOUR, DAY
HOUR_MODEL_TABLE = "usage_rollup_hour_model"  # rollup.HOUR_MODEL
THRESHOLD_KEY = "rollup_tier_threshold"  # schema.THRESHOLD_KEY
OWNER_KEY, OWNER_VALUE = "store_owner", "tokentop"  # schema.OWNER_KEY, OWNER_VALUE
TOKENTOP_COLUMNS = ("tokentop_cache_write_1h", "tokentop_speed", "tokentop_sidechain",
                    "tokentop_web_search_requests", "tokentop_web_fetch_requests",
                    "tokentop_service_tier", "tokentop_inference_geo",
                    "tokentop_cost_computed", "tokentop_revision",
                    "tokentop_host")  # schema.TOKENTOP_COLUMNS' names
SYNTHETIC = "<synthetic>"  # costing.SYNTHETIC


if TYPE_CHECKING:
    from collections.abc import Callable

    Entry = tuple[datetime, datetime, list[tuple]]  # ``reports.HourEntry``


# -- where the read model reads the rollup -------------------------------------------


def hour_text(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H")


def rollup_parts(start: datetime, end: datetime) -> tuple[list[tuple[datetime, datetime]],
                                                           list[tuple[str, str, str]]]:
    """``read._split(start, end, rolled=True)`` for a bounded window: the [start, end)
    ranges read from the events, and the (table, time column, [first, last)) parts read
    from the rollup (``read._rollup_parts``), in the read model's order."""
    end_hour = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    first_hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if first_hour < start:
        first_hour += HOUR
    if first_hour >= end_hour:
        return [(start, end)], []
    edges = []
    if start < first_hour:
        edges.append((start, first_hour))
    if end_hour < end:
        edges.append((end_hour, end))
    hours = (hour_text(first_hour), hour_text(end_hour))
    end_day = end_hour.replace(hour=0)
    first_day = first_hour.replace(hour=0)
    if first_day < first_hour:
        first_day += timedelta(days=1)
    if first_day >= end_day:
        return edges, [(HOUR_TABLE, "hour", *hours)]
    parts = []
    if first_hour < first_day:
        parts.append((HOUR_TABLE, "hour", hour_text(first_hour), hour_text(first_day)))
    if end_day < end_hour:
        parts.append((HOUR_TABLE, "hour", hour_text(end_day), hour_text(end_hour)))
    parts.append((DAY_TABLE, "day", first_day.strftime("%Y-%m-%d"),
                  end_day.strftime("%Y-%m-%d")))
    return edges, parts


# -- reading ---------------------------------------------------------------------------


class _Reader:
    """One status line's reads over ``conn``, priced by ``prices``. Rows of models the
    price cache does not hold are collected first, resolved in one go (the slow path,
    once per new model), then priced."""

    def __init__(self, conn: sqlite3.Connection, prices: CompiledPrices) -> None:
        self.conn = conn
        self.prices = prices
        self.t = prices.threshold
        self.contexts = prices.contexts
        self.calc = calc_sql(prices.contexts)

    def group_rows(self, start: datetime, end: datetime) -> list[tuple]:
        """``read._group_rows(conn, ("one",), start, end, rolled=True)``."""
        events, parts = rollup_parts(start, end)
        rows: list[tuple] = []
        for a, b in events:
            where, args = range_sql(a, b)
            rows += self.conn.execute(sums_sql("1", where, self.t, self.calc),
                                      args).fetchall()
        for table, column, first, last in parts:
            rows += self.conn.execute(
                rollup_sql("1", f"{column} >= ? AND {column} < ?", table),
                [first, last]).fetchall()
        return rows

    def hour_entry(self, start: datetime, end: datetime,
                   ) -> tuple[datetime, datetime, list[tuple]] | None:
        """``read._hour_entry``."""
        where, args = range_sql(start, end)
        rows = self.conn.execute(hour_entry_sql(where, self.t, self.calc),
                                 args).fetchall()
        if not rows:
            return None
        first = min(fast_ts(r[14]) for r in rows)
        last = max(fast_ts(r[15]) for r in rows)
        return first, last, [r[:14] for r in rows]

    def single(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime,
                                                                    list[tuple]]]:
        """The events of [start, end) one by one (``read._rollup_blocks``' ``single``)."""
        where, args = range_sql(start, end)
        sql = f"{BLOCK_ROW_SQL} WHERE +event_type IN ({USAGE_TYPES}) AND {where}"
        out = []
        for ts, model, i, o, cw, cr, given, cw1h in sorted(
                ((fast_ts(r[0]), *r[1:]) for r in self.conn.execute(sql, args).fetchall()),
                key=lambda r: r[0]):
            overs = [max(v - self.t, 0) for v in (i, o, cw - cw1h, cr, cw1h)]
            calc = calc_of(given, i + cw + cr, self.contexts)
            out.append((ts, ts, [(model, calc, i, o, cw, cr, given, 1, *overs[:4],
                                  cw1h, overs[4])]))
        return out

    def block_entries(self, now: datetime, this_hour: datetime,
                      ) -> list[tuple[datetime, datetime, list[tuple]]]:
        """The hour entries ``read._rollup_blocks`` walks, before ``now``'s own hour."""
        priced_from = hour_text(now - BLOCK)
        spans = self.conn.execute(
            "SELECT hour, MIN(first_at), MAX(last_at)"
            f" FROM {HOUR_MODEL_TABLE} WHERE event_type IN ({USAGE_TYPES})"
            " AND hour >= ? AND hour < ? GROUP BY hour ORDER BY hour",
            (hour_text(now - ROLLUP_BLOCK_LOOKBACK), min(priced_from, hour_text(this_hour)))
        ).fetchall()
        rows = self.conn.execute(
            "SELECT hour, MIN(first_at), MAX(last_at), model, calc, SUM(input), SUM(output),"
            " SUM(cache_write), SUM(cache_read), SUM(cost), SUM(events), SUM(input_over),"
            " SUM(output_over), SUM(cache_write_over), SUM(cache_read_over),"
            " SUM(cache_write_1h), SUM(cache_write_1h_over)"
            f" FROM {HOUR_MODEL_TABLE} WHERE event_type IN ({USAGE_TYPES})"
            " AND hour >= ? AND hour < ? GROUP BY hour, model, calc ORDER BY hour, 2",
            (priced_from, hour_text(this_hour))).fetchall()
        entries = [(fast_ts(first), fast_ts(last), []) for _, first, last in spans]
        part: list[tuple] = []
        for r in rows:  # itertools.groupby by hour, without importing itertools
            if part and part[0][0] != r[0]:
                entries.append(_entry(part))
                part = []
            part.append(r)
        if part:
            entries.append(_entry(part))
        return entries

    def cost(self, part: tuple) -> float | None:
        """What ``read._sums`` / ``reports.hour_block_list`` add for one group row
        (model, calc, sums...): the given cost, the priced one, or None (unpriced)."""
        model, calc, i, o, cw, cr, given, _, io, oo, cwo, cro, cw1h, cw1ho = part
        if not calc:
            return given or 0.0
        return self.prices.cost(model, i, o, cw, cr, io, oo, cwo, cro, cw1h, cw1ho, calc)


def _entry(part: list[tuple]) -> tuple[datetime, datetime, list[tuple]]:
    return (min(fast_ts(r[1]) for r in part), max(fast_ts(r[2]) for r in part),
            [r[3:] for r in part])


def _active_block(entries: list[Entry], now: datetime,
                  expand: Callable[[datetime], list[Entry]],
                  cost: Callable[[tuple], float | None]) -> dict[str, float] | None:
    """``reports.hour_block_list`` then ``read._block_view``, keeping of each block
    only what the status line shows (its end and cost) and whether it is active."""
    blocks: list[tuple[datetime, datetime, float]] = []  # start, last, cost
    start = last = None
    total = 0.0
    pending = [(entry, False) for entry in entries]
    pending.reverse()
    while pending:
        (first, end, parts), expanded = pending.pop()
        if (not expanded and start is not None and first - start == BLOCK
                and first == first.replace(minute=0, second=0, microsecond=0)):
            single = expand(first)
            if single:
                pending.extend((entry, True) for entry in reversed(single))
                continue
        if start is not None and last is not None and (
                first - start > BLOCK or first - last > BLOCK):
            blocks.append((start, last, total))
            start = None
        if start is None:
            start = first.replace(minute=0, second=0, microsecond=0)
            last = first
            total = 0.0
        assert last is not None
        last = max(last, end)
        for p in parts:
            c = cost(p)
            if c is not None:
                total += c
    if start is not None and last is not None:
        blocks.append((start, last, total))
    active = [b for b in blocks if now - b[1] < BLOCK and now < b[0] + BLOCK]
    if not active:
        return None
    b_start, _, b_cost = active[-1]
    # ``reports.iso_ms`` then ``parse_ts``: the start is on the hour, so exact
    return {"end": (b_start + BLOCK).timestamp(), "cost": b_cost}


def quotas(conn: sqlite3.Connection) -> list[dict]:
    """``read.quotas`` as ``glance.snapshot`` keeps them."""
    return [{"name": f"{q.provider} {q.metric}".strip(),
             "fraction": q.fraction,
             "resets_at": None if q.resets_at is None else q.resets_at.timestamp(),
             "full_at": None if q.full_at is None else q.full_at.timestamp()}
            for q in latest_quotas(conn)]


def _certain(conn: sqlite3.Connection, prices: CompiledPrices) -> bool:
    """Whether this store is read exactly here: every ``tokentop_*`` column
    (``reports.for_store`` changes nothing) and a rollup of the table in force
    (``read.uses_rollup``)."""
    names = {row[1] for row in conn.execute("PRAGMA table_info(usage_events)")}
    if any(name not in names for name in TOKENTOP_COLUMNS):
        return False
    try:
        row = conn.execute("SELECT value FROM tokentop_meta WHERE key = ?",
                           (THRESHOLD_KEY,)).fetchone()
    except sqlite3.OperationalError:
        return False
    return row is not None and str(row[0]) == prices.basis


def read_snapshot(conn: sqlite3.Connection, now: datetime, tz: tzinfo | None = None,
                  prices: CompiledPrices | None = None) -> dict | None:
    """``glance.snapshot(glance.read_glance(conn, now, tz))``, or None when this store
    is not one read exactly here (then ask ``read_glance``)."""
    if prices is None:
        from tokentop.store.pricing_cache import load

        prices = load()
    if not _certain(conn, prices):
        return None
    reader = _Reader(conn, prices)
    now = now.astimezone(UTC)
    end = now + timedelta(seconds=1)
    local = now.astimezone(tz or UTC)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    current = reader.hour_entry(this_hour, end)
    current_rows = current[2] if current is not None else []
    if day_start < this_hour:
        today_rows = [r[1:] for r in reader.group_rows(day_start, this_hour)] + current_rows
    else:  # the day began within this hour (a zone offset of :30 or :45)
        today_rows = [r[1:] for r in reader.group_rows(day_start, end)]
    burn_rows = [r[1:] for r in reader.group_rows(now - HOUR, this_hour)] + current_rows
    entries = reader.block_entries(now, this_hour)
    if current is not None:
        entries.append(current)

    def expand(hour: datetime) -> list[tuple[datetime, datetime, list[tuple]]]:
        return reader.single(hour, min(hour + HOUR, end))

    # Every model the rows name must be in the price cache before pricing: a model
    # seen for the first time is resolved from the table in force, once.
    models = {p[0] for p in (*today_rows, *burn_rows) if p[1]}
    models.update(p[0] for _, _, parts in entries for p in parts if p[1])
    prices.resolve(models)

    def cost(part: tuple) -> float | None:
        if part[1] and part[0] not in prices.models:  # met while expanding an hour
            prices.resolve({part[0]})
        return reader.cost(part)

    today = burn = 0.0
    for part in today_rows:
        c = cost(part)
        if c is not None:
            today += c
    for part in burn_rows:
        c = cost(part)
        if c is not None:
            burn += c
    return {"today": today, "block": _active_block(entries, now, expand, cost),
            "burn": burn, "quotas": quotas(conn)}



# -- opening the store, and the zone ----------------------------------------------------


def _quiet_wal(path: str) -> bool:
    """``ownership._quiet_wal``: a WAL database that no connection has open (read as
    ``tail.regular.open_binary`` reads: a regular file only, never blocking on one
    that is not)."""
    import stat

    if os.path.exists(f"{path}-wal"):
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return False
            head = os.read(fd, 20)
        finally:
            os.close(fd)
    except OSError:
        return False
    return len(head) == 20 and head[18] == 2 and head[19] == 2


_URI_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/")


def quote(path: str) -> str:
    """``urllib.parse.quote(path)`` (whose import, with ipaddress, costs a status line
    ~2 ms): UTF-8, every byte but letters, digits, ``_.-~/`` as ``%XX``."""
    return "".join(chr(b) if b in _URI_SAFE else f"%{b:02X}" for b in path.encode())


def connect_read_only(path: str) -> sqlite3.Connection | None:
    """``reports.connect_read_only(path)`` for tokentop's own store, or None for anything
    that needs more thought (a missing file, a foreign store, an older tokentop's store
    without the owner mark, an unreadable one): the read model's opener then answers,
    and words any error."""
    if not os.path.exists(path):
        return None
    resolved = os.path.realpath(path)
    try:
        uri = f"file:{quote(resolved)}?mode=ro"
    except UnicodeEncodeError:  # a name that is not UTF-8: the read model words it
        return None
    try:
        if _quiet_wal(resolved):  # ``ownership.read_only_uri`` asks whose it is
            probe = sqlite3.connect(uri + "&immutable=1", uri=True)
            try:
                row = probe.execute("SELECT value FROM tokentop_meta WHERE key = ?",
                                    (OWNER_KEY,)).fetchone()
            finally:
                probe.close()
            if row is None or row[0] != OWNER_VALUE:
                return None
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error:
        return None
    try:
        conn.execute("PRAGMA query_only = ON")
        conn.execute("SELECT 1 FROM usage_events LIMIT 1").fetchall()
    except sqlite3.Error:
        conn.close()
        return None
    return conn


def parse_tz(name: str | None) -> tzinfo | None:
    """``reports.parse_tz``, or None for a name it refuses (it then says so)."""
    from zoneinfo import ZoneInfo

    if name:
        try:
            return ZoneInfo(name)
        except (ValueError, OSError, KeyError):
            return None
    env = os.environ.get("TZ", "").lstrip(":")  # ``reports._local_zone``
    if env:
        try:
            return ZoneInfo(env)
        except (ValueError, OSError, KeyError):
            pass
    try:
        link = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in link:
            return ZoneInfo(link.split("zoneinfo/", 1)[1])
    except (OSError, ValueError, KeyError):
        pass
    return ZoneInfo("UTC")
