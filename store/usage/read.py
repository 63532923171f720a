"""The read model of the usage store: what the Usage screen (and scripts) show.

Functions over a ``sqlite3`` connection in autocommit mode (``UsageStore.conn``): each
query is one statement whose rows are fetched at once, so no read transaction stays
open and a writer's WAL checkpoints are never held back. Every range uses
:func:`~tokentop.store.usage.timefmt.bound`, so openusage's variable-width ``occurred_at`` and
tokentop's fixed-width one select the same events at a window's edges.

Cost is the reports' rule (``tokentop.store.usage.reports``): ``cost_usd`` when the source gave
one, else the bundled price times the tokens, with the per-message tier excess summed
in SQL. A model the table does not know adds nothing and is listed as unpriced. Tokens
are input + output + cache write + cache read, as in the reports (ccusage).

Speed: one GROUP BY over the window (hour x model x provider x agent x project) feeds
the totals, every breakdown and the daily bars; sessions, tools, the last hour and
the current block are small queries of their own. In tokentop's own store the whole
hours of a window come from the hourly rollup (``tokentop.store.usage.rollup``) and only the
partial hours at its two edges from the events, so a refresh costs the same over 5M
events as over 50k; a foreign store (openusage's) is read from its events. Both paths
give the same numbers (tests/usage/test_read.py runs every test on both). See
tests/bench/bench_usage_read.py.
"""

from __future__ import annotations

import itertools
import sqlite3
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from tokentop.store.pricing import PriceTable
from tokentop.store.usage import groupsql, rollup
from tokentop.store.usage.costing import FAST_SUFFIX
from tokentop.store.usage.quotas import QuotaRow, label, latest_quotas
from tokentop.store.usage.reports import (
    BLOCK,
    BLOCK_ROW_SQL,
    MODEL_SQL,
    SYNTHETIC,
    Pricer,
    block_list,
    for_store,
)
from tokentop.store.usage.schema import missing_tokentop_columns, rollup_basis
from tokentop.store.usage.semantics import (
    GIVEN_COST_SQL,
    INPUT_SQL,
    calc_of,
    calc_sql,
)
from tokentop.store.usage.timefmt import bound, parse_ts

WINDOWS: tuple[str, ...] = ("1d", "3d", "7d", "30d", "month", "all")
# Rolling windows: the N x 24 hours ending now ("1d" is the last 24 h, not "today").
# "month" is the calendar month to date (from the 1st, 00:00 in the reader's time
# zone); "all" is every stored event.
WINDOW_DAYS: dict[str, int | None] = {"1d": 1, "3d": 3, "7d": 7, "30d": 30, "month": None,
                                      "all": None}
BREAKDOWNS: tuple[str, ...] = ("model", "provider", "agent", "project", "tool")
USAGE_TYPES = groupsql.USAGE_TYPES
BLOCK_LOOKBACK = timedelta(hours=10)  # events walked to find the current 5-hour block
ROLLUP_BLOCK_LOOKBACK = timedelta(days=7)  # rollup hours walked for the same
HOUR = groupsql.HOUR


def window_start(window: str, now: datetime, tz: tzinfo = UTC) -> datetime | None:
    """Where ``window`` starts when it ends at ``now`` (``None``: all of it); ``tz``
    says where a calendar month begins."""
    if window not in WINDOW_DAYS:
        raise ValueError(f"unknown window {window!r}: use one of {', '.join(WINDOWS)}")
    if window == "month":
        local = now.astimezone(tz)
        # Built anew, not ``replace``d: the zone's offset on the 1st (DST may differ).
        return datetime(local.year, local.month, 1, tzinfo=tz).astimezone(UTC)
    days = WINDOW_DAYS[window]
    return None if days is None else now - timedelta(days=days)


_range = groupsql.range_sql


# -- results ---------------------------------------------------------------------------


@dataclass
class Sums:
    """Tokens and cost of a set of events. ``cost`` excludes unpriced models."""

    input: int = 0
    output: int = 0
    cache_write: int = 0
    cache_read: int = 0
    cost: float = 0.0
    messages: int = 0
    unpriced_tokens: int = 0  # tokens of models without a price (their cost is unknown)
    # Claude Code 2.1's priced details: the 1-hour part of ``cache_write`` (2x input
    # where 5-minute writes are 1.25x) and the messages sent in fast mode
    cache_write_1h: int = 0
    fast_messages: int = 0

    @property
    def tokens(self) -> int:
        return self.input + self.output + self.cache_write + self.cache_read

    def add(self, other: Sums) -> None:
        self.input += other.input
        self.output += other.output
        self.cache_write += other.cache_write
        self.cache_read += other.cache_read
        self.cost += other.cost
        self.messages += other.messages
        self.unpriced_tokens += other.unpriced_tokens
        self.cache_write_1h += other.cache_write_1h
        self.fast_messages += other.fast_messages


@dataclass(frozen=True)
class BreakdownRow:
    """One line of a breakdown: a model, provider, agent, project or tool."""

    key: str
    sums: Sums
    share: float  # of the window's tokens, 0..1


@dataclass(frozen=True)
class Burn:
    """Spend over the last hour ending at ``now``."""

    cost_per_hour: float
    tokens_per_minute: float
    tokens: int


@dataclass(frozen=True)
class BlockView:
    """The active 5-hour block (ccusage's), with its projection to the block's end."""

    start: datetime
    end: datetime
    tokens: int
    cost: float
    entries: int
    remaining_minutes: int | None
    projected_tokens: int | None
    projected_cost: float | None
    models: tuple[str, ...]


Quota = QuotaRow  # one metric of the latest ``limit_snapshot`` of a provider/account


@dataclass
class UsageView:
    """Everything the Usage screen shows for one window, read in one go."""

    window: str
    now: datetime
    start: datetime | None = None  # where the window begins (None: all stored)
    totals: Sums = field(default_factory=Sums)
    sessions: int = 0
    breakdowns: dict[str, list[BreakdownRow]] = field(default_factory=dict)
    daily: list[tuple[date, int, float]] = field(default_factory=list)  # tokens, cost
    burn: Burn = field(default_factory=lambda: Burn(0.0, 0.0, 0))
    block: BlockView | None = None
    quotas: list[Quota] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)


# -- the shared group query -----------------------------------------------------------


def _calc() -> str:
    """The readers' "priced how?" key (``semantics.calc_sql``) for the table in force."""
    return calc_sql(PriceTable.load().context_thresholds)


def _sums_sql(keys: str, where: str) -> str:
    """Per (keys..., model, priced-by-source?) sums, with the tier excess per message."""
    from tokentop.store.usage.reports import _tier_threshold

    return groupsql.sums_sql(keys, where, _tier_threshold(), _calc())


# Key expressions of the shared group query, over the events and over the rollup.
EVENT_KEYS = {"hour": "substr(occurred_at, 1, 13)", "provider": "provider_id",
              "agent": "agent_name", "workspace": "workspace_id", "one": "1"}
ROLLUP_KEYS = {"hour": "hour", "provider": "NULLIF(provider_id, '')", "agent": "agent_name",
               "workspace": "NULLIF(workspace_id, '')", "one": "1"}


def _rollup_sql(keys: str, where: str, table: str = rollup.TABLE) -> str:
    """:func:`_sums_sql`'s rows from a rollup grain (same columns, same order)."""
    return groupsql.rollup_sql(keys, where, table)


def uses_rollup(conn: sqlite3.Connection) -> bool:
    """Whether ``conn``'s store has a rollup built with today's price tier."""
    return rollup_basis(conn) == rollup.basis(PriceTable.load().tier_threshold)


Bounds = tuple[str | None, str]  # [first, last) as rollup time texts (None: unbounded)


@dataclass(frozen=True)
class _Split:
    """A window cut into whole UTC days (day grain), the whole UTC hours around them
    (hour grain) and partial hours at its edges (events).

    ``hours`` spans every whole hour, days included: the grains keyed by hour alone
    (daily bars in local time, blocks) read all of it from the hour-and-model grain.
    """

    events: list[tuple[datetime | None, datetime]]  # [start, end) ranges read from events
    hours: Bounds | None  # every whole hour of the window
    days: Bounds | None  # whole UTC days (YYYY-MM-DD)
    edge_hours: list[Bounds]  # whole hours outside ``days``


def _hour_text(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H")


def _split(start: datetime | None, end: datetime, rolled: bool) -> _Split:
    if not rolled:
        return _Split([(start, end)], None, None, [])
    end_hour = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if start is None:
        first_hour = None
    else:
        first_hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        if first_hour < start:
            first_hour += HOUR
        if first_hour >= end_hour:
            return _Split([(start, end)], None, None, [])
    edges = []
    if start is not None and first_hour is not None and start < first_hour:
        edges.append((start, first_hour))
    if end_hour < end:
        edges.append((end_hour, end))
    hours = (None if first_hour is None else _hour_text(first_hour), _hour_text(end_hour))
    end_day = end_hour.replace(hour=0)
    first_day = None
    if first_hour is not None:
        first_day = first_hour.replace(hour=0)
        if first_day < first_hour:
            first_day += timedelta(days=1)
    if first_day is not None and first_day >= end_day:
        return _Split(edges, hours, None, [hours])
    days = (None if first_day is None else first_day.strftime("%Y-%m-%d"),
            end_day.strftime("%Y-%m-%d"))
    edge_hours: list[Bounds] = []
    if first_hour is not None and first_day is not None and first_hour < first_day:
        edge_hours.append((_hour_text(first_hour), _hour_text(first_day)))
    if end_day < end_hour:
        edge_hours.append((_hour_text(end_day), _hour_text(end_hour)))
    return _Split(edges, hours, days, edge_hours)


def _time_where(column: str, bounds: Bounds) -> tuple[str, list[str]]:
    first, last = bounds
    if first is None:
        return f"{column} < ?", [last]
    return f"{column} >= ? AND {column} < ?", [first, last]


def _hours_where(hours: Bounds) -> tuple[str, list[str]]:
    return _time_where("hour", hours)


def _rollup_parts(split: _Split) -> list[tuple[str, str, Bounds]]:
    """(table, time column, bounds) of every rollup part of a window with all keys:
    the day grain for whole days, the hour grain for the hours around them."""
    parts = [(rollup.TABLE, "hour", b) for b in split.edge_hours]
    if split.days is not None:
        parts.append((rollup.DAY.table, "day", split.days))
    return parts


def _group_rows(conn: sqlite3.Connection, key_names: tuple[str, ...], start: datetime | None,
                end: datetime, rolled: bool) -> list[tuple]:
    """The shared group query's rows over [start, end): whole days and hours from the
    rollup when ``rolled``, the rest from the events. A key may come back in several
    rows (one per part); callers add them up. Keyed by ``hour``, the whole hours come
    from the hour-and-model grain (no other key may be asked for with it)."""
    split = _split(start, end, rolled)
    rows: list[tuple] = []
    keys = ", ".join(EVENT_KEYS[k] for k in key_names)
    for a, b in split.events:
        where, args = _range(a, b)
        rows += conn.execute(for_store(conn, _sums_sql(keys, where)), args).fetchall()
    if split.hours is None:
        return rows
    if "hour" in key_names:
        if key_names != ("hour",):
            raise ValueError("the hour key goes alone with the rollup")
        where, args = _hours_where(split.hours)
        rows += conn.execute(_rollup_sql("hour", where, rollup.HOUR_MODEL.table),
                             args).fetchall()
        return rows
    rkeys = ", ".join(ROLLUP_KEYS[k] for k in key_names)
    for table, column, bounds in _rollup_parts(split):
        where, args = _time_where(column, bounds)
        rows += conn.execute(_rollup_sql(rkeys, where, table), args).fetchall()
    return rows


def _sums(row: tuple, nkeys: int, price_of: Pricer, unpriced: set[str]) -> Sums:
    """The ``Sums`` of one group row of :func:`_sums_sql` (keys first)."""
    model, calc, i, o, cw, cr, given, n, io, oo, cwo, cro, cw1h, cw1ho = row[nkeys:]
    s = Sums(i, o, cw, cr, 0.0, n, cache_write_1h=cw1h,
             fast_messages=n if model.endswith(FAST_SUFFIX) else 0)
    if not calc:
        s.cost = given or 0.0
    else:
        cost = price_of.cost(model, i, o, cw, cr, io, oo, cwo, cro, cw1h, cw1ho, calc)
        if cost is not None:
            s.cost = cost
        elif model != SYNTHETIC and (i or o or cw or cr):
            unpriced.add(model)
            s.unpriced_tokens = i + o + cw + cr
    return s


_fast_ts = groupsql.fast_ts


def _add_day(days: dict[date, Sums], local_day: dict[str, date], hour: str, tz: tzinfo,
             s: Sums) -> None:
    """Add an hour's sums to its local day (``hour``: ``YYYY-MM-DDTHH``, UTC)."""
    d = local_day.get(hour)
    if d is None:
        d = local_day[hour] = parse_ts(hour + ":00:00").astimezone(tz).date()
    days.setdefault(d, Sums()).add(s)


_label = label


# -- the pieces -------------------------------------------------------------------------


def read_usage(conn: sqlite3.Connection, window: str, now: datetime,
               tz: tzinfo | None = None, *, rolled: bool | None = None) -> UsageView:
    """Totals, breakdowns, daily bars, burn rate, current block and quotas.

    ``rolled``: read whole hours from the rollup (default: when the store has one).
    """
    now = now.astimezone(UTC)
    tz = tz or UTC
    if rolled is None:
        rolled = uses_rollup(conn)
    start = window_start(window, now, tz)
    end = now + timedelta(seconds=1)
    view = UsageView(window=window, now=now, start=start)
    split = _split(start, end, rolled)
    # One scan of the raw events serves every part when the window's first partial
    # hour lies before the last hour and ``now`` is not an hour's last second.
    if (split.hours is not None and (start is None or start <= now - 2 * HOUR)
            and now.replace(minute=0, second=0, microsecond=0)
            == end.replace(minute=0, second=0, microsecond=0)):
        view = _read_rolled(conn, view, split, start, end, tz)
        _add_hosts(conn, view, start, end)
        return view
    price_of = Pricer()
    unpriced: set[str] = set()
    per: dict[str, dict[str, Sums]] = {name: {} for name in BREAKDOWNS}
    days: dict[date, Sums] = {}
    local_day: dict[str, date] = {}
    # The events (all of a window, or its partial edge hours) in one scan keyed by hour
    # too; from the rollup, the breakdowns and the daily bars are two small GROUP BYs
    # (the hour key would multiply the rows of a long window).
    keys = ("hour", "provider", "agent", "workspace")
    ev_keys = ", ".join(EVENT_KEYS[k] for k in keys)
    rows = []
    for a, b in split.events:
        where, args = _range(a, b)
        rows += conn.execute(for_store(conn, _sums_sql(ev_keys, where)), args).fetchall()
    rkeys = ", ".join(ROLLUP_KEYS[k] for k in keys[1:])
    for table, column, bounds in _rollup_parts(split):
        where, args = _time_where(column, bounds)
        rows += [(None, *r) for r in
                 conn.execute(_rollup_sql(rkeys, where, table), args).fetchall()]
    for row in rows:
        hour, provider, agent, workspace = row[:4]
        s = _sums(row, 4, price_of, unpriced)
        if hour is not None:
            _add_day(days, local_day, hour, tz, s)
        view.totals.add(s)
        for name, key in (("model", row[4]), ("provider", provider),
                          ("agent", agent), ("project", workspace)):
            per[name].setdefault(_label(key), Sums()).add(s)
    if split.hours is not None:
        _rollup_days(conn, split, tz, days, local_day, price_of)
    tool_parts: list[str] = []
    session_parts: list[str] = []
    part_args: list[str] = []
    for a, b in split.events:
        where, args = _range(a, b)
        tool_parts.append(
            f"SELECT tool_name, COUNT(*), SUM({INPUT_SQL}),"
            " SUM(COALESCE(output_tokens, 0)), SUM(COALESCE(cache_write_tokens, 0)),"
            f" SUM(COALESCE(cache_read_tokens, 0)), SUM(COALESCE({GIVEN_COST_SQL}, 0))"
            f" FROM usage_events WHERE tool_name IS NOT NULL AND {where} GROUP BY 1")
        session_parts.append(f"SELECT session_id AS sid FROM usage_events"
                             f" WHERE +event_type IN ({USAGE_TYPES}) AND {where}")
        part_args += args
    for table, column, bounds in _rollup_parts(split):
        where, args = _time_where(column, bounds)
        sessions = rollup.SESSIONS if column == "hour" else rollup.SESSION_DAY.table
        tool_parts.append(
            "SELECT tool_name, SUM(events), SUM(input), SUM(output), SUM(cache_write),"
            f" SUM(cache_read), SUM(cost) FROM {table}"
            f" WHERE tool_name != '' AND {where} GROUP BY 1")
        session_parts.append(f"SELECT session_id AS sid FROM {sessions}"
                             f" WHERE event_type IN ({USAGE_TYPES}) AND {where}")
        part_args += args
    for name, n, i, o, cw, cr, cost in conn.execute(
            for_store(conn, " UNION ALL ".join(tool_parts)), part_args).fetchall():
        per["tool"].setdefault(_label(name), Sums()).add(Sums(i, o, cw, cr, cost, n))
    view.sessions = conn.execute(
        "SELECT COUNT(DISTINCT sid) FROM (" + " UNION ALL ".join(session_parts) + ")",
        part_args).fetchone()[0]
    total_tokens = view.totals.tokens
    for name, groups in per.items():
        rows = [BreakdownRow(k, s, s.tokens / total_tokens if total_tokens else 0.0)
                for k, s in groups.items()]
        rows.sort(key=lambda r: (-r.sums.tokens, -r.sums.messages, r.key))
        view.breakdowns[name] = rows
    _finish(view, per, days, unpriced)
    view.burn = burn_rate(conn, now, rolled=rolled)
    view.block = current_block(conn, now, rolled=rolled)
    view.quotas = quotas(conn)
    _add_hosts(conn, view, start, end)
    return view


LOCAL_HOST = "local"  # this machine's events (``tokentop_host`` NULL), as reports name it


def host_rows(conn: sqlite3.Connection, start: datetime | None, end: datetime,
              totals: Sums) -> list[BreakdownRow]:
    """The window by box (``--host``); empty while every event is this machine's.

    Only the events read on other boxes are summed (through the partial index on
    ``tokentop_host``, so a store without them costs one index probe); this machine's
    row is the window's ``totals`` less theirs."""
    if "tokentop_host" in missing_tokentop_columns(conn):
        return []
    where, args = _range(start, end)
    sql = _sums_sql("tokentop_host", f"tokentop_host IS NOT NULL AND {where}")
    price_of = Pricer()
    per: dict[str, Sums] = {}
    for row in conn.execute(sql, args).fetchall():
        per.setdefault(str(row[0]), Sums()).add(_sums(row, 1, price_of, set()))
    if not per:
        return []
    local = Sums(**{f.name: getattr(totals, f.name) for f in fields(Sums)})
    for s in per.values():
        for f in fields(Sums):
            setattr(local, f.name, getattr(local, f.name) - getattr(s, f.name))
    if local.messages > 0:
        per[LOCAL_HOST] = local
    total = totals.tokens
    rows = [BreakdownRow(k, s, s.tokens / total if total else 0.0) for k, s in per.items()]
    rows.sort(key=lambda r: (-r.sums.tokens, -r.sums.messages, r.key))
    return rows


def _add_hosts(conn: sqlite3.Connection, view: UsageView, start: datetime | None,
               end: datetime) -> None:
    """The ``host`` breakdown, when the window holds more than one host."""
    rows = host_rows(conn, start, end, view.totals)
    if len(rows) > 1:
        view.breakdowns["host"] = rows


def _finish(view: UsageView, per: dict[str, dict[str, Sums]], days: dict[date, Sums],
            unpriced: set[str]) -> None:
    total_tokens = view.totals.tokens
    for name, groups in per.items():
        rows = [BreakdownRow(k, s, s.tokens / total_tokens if total_tokens else 0.0)
                for k, s in groups.items()]
        rows.sort(key=lambda r: (-r.sums.tokens, -r.sums.messages, r.key))
        view.breakdowns[name] = rows
    view.daily = [(d, s.tokens, s.cost) for d, s in sorted(days.items())]
    view.unpriced = sorted(unpriced)


def _edge_sql(where: str) -> str:
    """Every sum the Usage screen needs from raw events, in one GROUP BY: ``seg`` says
    which edge a row is from (0 the window's first partial hour, 1 the rest of the
    last hour before the current one, 2 the current hour)."""
    from tokentop.store.usage.reports import _CW1H, _CW5M, _over, _tier_threshold

    t = _tier_threshold()
    return f"""
        SELECT CASE WHEN occurred_at >= ? THEN 2 WHEN occurred_at >= ? THEN 1 ELSE 0 END,
               event_type, provider_id, agent_name, workspace_id, session_id, tool_name,
               {MODEL_SQL} AS model, {_calc()} AS calc,
               SUM({INPUT_SQL}), SUM(COALESCE(output_tokens, 0)),
               SUM(COALESCE(cache_write_tokens, 0)), SUM(COALESCE(cache_read_tokens, 0)),
               SUM({GIVEN_COST_SQL}), COUNT(*),
               {_over(INPUT_SQL, t)}, {_over("output_tokens", t)},
               {_over(_CW5M, t)}, {_over("cache_read_tokens", t)},
               MIN(occurred_at), MAX(occurred_at), SUM(COALESCE({GIVEN_COST_SQL}, 0)),
               SUM({_CW1H}), {_over(_CW1H, t)}
        FROM usage_events WHERE {where}
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
    """


def _read_rolled(conn: sqlite3.Connection, view: UsageView, split: _Split,
                 start: datetime | None, end: datetime, tz: tzinfo) -> UsageView:
    """:func:`read_usage` through the rollup, with the raw events read once.

    Every part of the screen needs some raw events: the window's partial first and
    last hours (breakdowns, daily bars, tools, sessions), the last hour (burn rate) and
    the current hour (the active block). Four scans of the same few thousand rows
    cost more than everything read from the rollup; one GROUP BY over them, keyed by
    which of those ranges a row falls in, gives every sum at once.
    """
    now = view.now
    end_hour = end.replace(minute=0, second=0, microsecond=0)
    burn_start = now - HOUR
    price_of = Pricer()
    unpriced: set[str] = set()
    per: dict[str, dict[str, Sums]] = {name: {} for name in BREAKDOWNS}
    days: dict[date, Sums] = {}
    local_day: dict[str, date] = {}
    tools = per["tool"]
    sids: set[str] = set()
    burn = Sums()
    current: dict[tuple, list] = {}
    ranges = [(burn_start, end)]
    if start is not None and split.hours is not None and split.hours[0] is not None:
        first_hour = parse_ts(split.hours[0] + ":00:00")
        if start < first_hour:
            ranges.insert(0, (start, first_hour))
    parts, args = [], [bound(end_hour), bound(burn_start)]
    for a, b in ranges:
        where, more = _range(a, b)
        parts.append(f"({where})")
        args += more
    window_first = bound(start) if start is not None else ""
    for row in conn.execute(for_store(conn, _edge_sql(" OR ".join(parts))), args).fetchall():
        seg, etype, provider, agent, workspace, sid, tool = row[:7]
        sums_row = (*row[7:19], row[22], row[23])
        first, last, cost_any = row[19], row[20], row[21]
        usage = etype == "message_usage"
        in_window = seg == 2 or (seg == 0 and first >= window_first)
        if in_window and tool is not None:
            i, o, cw, cr = sums_row[2:6]
            tools.setdefault(_label(tool), Sums()).add(Sums(i, o, cw, cr, cost_any, row[14]))
        if not usage:
            continue
        if in_window:
            s = _sums(sums_row, 0, price_of, unpriced)
            _add_day(days, local_day, first[:13], tz, s)
            view.totals.add(s)
            for name, key in (("model", sums_row[0]), ("provider", provider),
                              ("agent", agent), ("project", workspace)):
                per[name].setdefault(_label(key), Sums()).add(s)
            if sid is not None:
                sids.add(sid)
        if seg >= 1:
            burn.add(_sums(sums_row, 0, price_of, set()))
        if seg == 2:
            acc = current.get(sums_row[:2])
            if acc is None:
                current[sums_row[:2]] = [*sums_row, first, last]
            else:
                for j in range(2, 14):
                    if j == 6:  # the source's cost: NULL when it gave none
                        acc[j] = (acc[j] or 0.0) + (sums_row[j] or 0.0)
                    else:
                        acc[j] += sums_row[j]
                acc[14] = min(acc[14], first)
                acc[15] = max(acc[15], last)
    # The whole hours and days from the rollup.
    rkeys = ", ".join(ROLLUP_KEYS[k] for k in ("provider", "agent", "workspace"))
    tool_parts, session_parts, part_args = [], [], []
    for table, column, bounds in _rollup_parts(split):
        where, more = _time_where(column, bounds)
        for provider, agent, workspace, *rest in conn.execute(
                _rollup_sql(rkeys, where, table), more).fetchall():
            s = _sums(rest, 0, price_of, unpriced)
            view.totals.add(s)
            for name, key in (("model", rest[0]), ("provider", provider),
                              ("agent", agent), ("project", workspace)):
                per[name].setdefault(_label(key), Sums()).add(s)
        sessions = rollup.SESSIONS if column == "hour" else rollup.SESSION_DAY.table
        tool_parts.append(
            "SELECT tool_name, SUM(events), SUM(input), SUM(output), SUM(cache_write),"
            f" SUM(cache_read), SUM(cost) FROM {table}"
            f" WHERE tool_name != '' AND {where} GROUP BY 1")
        session_parts.append(f"SELECT DISTINCT session_id FROM {sessions}"
                             f" WHERE event_type IN ({USAGE_TYPES}) AND {where}")
        part_args.append(more)
    for sql, more in zip(tool_parts, part_args, strict=True):
        for name, n, i, o, cw, cr, cost in conn.execute(sql, more).fetchall():
            tools.setdefault(_label(name), Sums()).add(Sums(i, o, cw, cr, cost, n))
    for sql, more in zip(session_parts, part_args, strict=True):
        sids.update(r[0] for r in conn.execute(sql, more).fetchall())
    view.sessions = len(sids)
    _rollup_days(conn, split, tz, days, local_day, price_of)
    _finish(view, per, days, unpriced)
    view.burn = Burn(burn.cost, burn.tokens / 60, burn.tokens)
    entry = None
    if current:
        accs = sorted(current.values(), key=lambda a: (a[0], a[1]))
        entry = (min(_fast_ts(a[14]) for a in accs), max(_fast_ts(a[15]) for a in accs),
                 [tuple(a[:14]) for a in accs])
    view.block = _block_view(_rollup_blocks(conn, now, entry))
    view.quotas = quotas(conn)
    return view


def _is_utc(tz: tzinfo) -> bool:
    return tz is UTC or tz == UTC or str(tz) in ("UTC", "Etc/UTC", "GMT")


def _rollup_days(conn: sqlite3.Connection, split: _Split, tz: tzinfo,
                 days: dict[date, Sums], local_day: dict[str, date], price_of: Pricer) -> None:
    """The daily bars' whole hours from the rollup: in UTC, whole days from the day
    grain and the hours around them from the hour grain; in any other zone, every
    hour from the hour-and-model grain (local days do not start on UTC days)."""
    assert split.hours is not None
    if not _is_utc(tz):
        where, args = _hours_where(split.hours)
        for row in conn.execute(_rollup_sql("hour", where, rollup.HOUR_MODEL.table), args):
            _add_day(days, local_day, row[0], tz, _sums(row, 1, price_of, set()))
        return
    for table, column, bounds in _rollup_parts(split):
        where, args = _time_where(column, bounds)
        key = "day" if column == "day" else "substr(hour, 1, 10)"
        for row in conn.execute(_rollup_sql(key, where, table), args):
            d = date.fromisoformat(row[0])
            days.setdefault(d, Sums()).add(_sums(row, 1, price_of, set()))


def spend(conn: sqlite3.Connection, start: datetime, end: datetime, *,
          rolled: bool = False) -> Sums:
    """Tokens and cost of the events in [start, end) (unpriced models add no cost)."""
    price_of = Pricer()
    total = Sums()
    for row in _group_rows(conn, ("one",), start, end, rolled):
        total.add(_sums(row, 1, price_of, set()))
    return total


def burn_rate(conn: sqlite3.Connection, now: datetime, *, rolled: bool = False) -> Burn:
    """$/h and tokens/min over the hour ending at ``now`` (unpriced models add no cost)."""
    total = spend(conn, now - HOUR, now + timedelta(seconds=1), rolled=rolled)
    return Burn(total.cost, total.tokens / 60, total.tokens)


def current_block(conn: sqlite3.Connection, now: datetime, *,
                  rolled: bool = False) -> BlockView | None:
    """The active 5-hour block at ``now``, computed by the reports' ``block_list``.

    From the events, only the last 10 hours are walked (an active block started at
    most 5 hours ago); from the rollup, the last 7 days, hour by hour (exact: a block
    starts on the hour, so it splits only on hour boundaries, and the 5-hour-silence
    rule needs only each hour's first and last event). A chain of blocks that began
    before the lookback (activity without a 5-hour silence for longer than that) may
    start its blocks at different hours than ``tokentop report blocks`` over the whole
    history.
    """
    if rolled:
        blocks = _rollup_blocks(conn, now)
    else:
        where, args = _range(now - BLOCK_LOOKBACK, now + timedelta(seconds=1))
        sql = f"{BLOCK_ROW_SQL} WHERE +event_type IN ({USAGE_TYPES}) AND {where}"
        rows = sorted(((_fast_ts(r[0]), *r[1:])
                       for r in conn.execute(for_store(conn, sql), args).fetchall()),
                      key=lambda r: r[0])
        blocks = block_list(rows, now)
    return _block_view(blocks)


def _block_view(blocks: list[dict[str, Any]]) -> BlockView | None:
    active = [b for b in blocks if b["isActive"]]
    if not active:
        return None
    b = active[-1]
    proj = b["projection"] or {}
    return BlockView(
        start=parse_ts(b["startTime"]), end=parse_ts(b["endTime"]), tokens=b["totalTokens"],
        cost=b["costUSD"], entries=b["entries"],
        remaining_minutes=proj.get("remainingMinutes"),
        projected_tokens=proj.get("totalTokens"), projected_cost=proj.get("totalCost"),
        models=tuple(b["models"]),
    )


_NO_ENTRY: Any = object()


def _rollup_blocks(conn: sqlite3.Connection, now: datetime,
                   current: Any = _NO_ENTRY) -> list[dict[str, Any]]:
    """``block_list`` over the rollup's whole hours before ``now``'s hour, then the
    events of ``now``'s own hour up to ``now`` (see ``hour_block_list``). Every block's
    start and end are exact; only the active one's sums are (what callers show)."""
    from tokentop.store.usage.reports import hour_block_list

    this_hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    # Only the block holding ``now`` is shown, and it began after now - 5 h: the hours
    # before that decide where blocks split (their first and last event) but not what
    # the active one holds, so they are read without their sums (no pricing).
    priced_from = _hour_text(now - BLOCK)
    spans = conn.execute(
        "SELECT hour, MIN(first_at), MAX(last_at)"
        f" FROM {rollup.HOUR_MODEL.table} WHERE event_type IN ({USAGE_TYPES})"
        " AND hour >= ? AND hour < ? GROUP BY hour ORDER BY hour",
        (_hour_text(now - ROLLUP_BLOCK_LOOKBACK), min(priced_from, _hour_text(this_hour)))
    ).fetchall()
    rows = conn.execute(
        "SELECT hour, MIN(first_at), MAX(last_at), model, calc, SUM(input), SUM(output),"
        " SUM(cache_write), SUM(cache_read), SUM(cost), SUM(events), SUM(input_over),"
        " SUM(output_over), SUM(cache_write_over), SUM(cache_read_over),"
        " SUM(cache_write_1h), SUM(cache_write_1h_over)"
        f" FROM {rollup.HOUR_MODEL.table} WHERE event_type IN ({USAGE_TYPES})"
        " AND hour >= ? AND hour < ? GROUP BY hour, model, calc ORDER BY hour, 2",
        (priced_from, _hour_text(this_hour))).fetchall()
    entries: list[tuple[datetime, datetime, list[tuple]]] = [
        (_fast_ts(first), _fast_ts(last), []) for _, first, last in spans]
    for _, group in itertools.groupby(rows, key=lambda r: r[0]):
        part = list(group)
        entries.append((min(_fast_ts(r[1]) for r in part), max(_fast_ts(r[2]) for r in part),
                        [r[3:] for r in part]))
    threshold = PriceTable.load().tier_threshold
    contexts = PriceTable.load().context_thresholds

    def single(start: datetime, end: datetime) -> list[tuple[datetime, datetime, list[tuple]]]:
        """The events of [start, end) one by one, as entries of their own."""
        where, args = _range(start, end)
        sql = f"{BLOCK_ROW_SQL} WHERE +event_type IN ({USAGE_TYPES}) AND {where}"
        out = []
        for ts, model, i, o, cw, cr, given, cw1h in sorted(
                ((_fast_ts(r[0]), *r[1:])
                 for r in conn.execute(for_store(conn, sql), args).fetchall()),
                key=lambda r: r[0]):
            overs = [max(v - threshold, 0) for v in (i, o, cw - cw1h, cr, cw1h)]
            calc = calc_of(given, i + cw + cr, contexts)
            out.append((ts, ts, [(model, calc, i, o, cw, cr, given, 1, *overs[:4],
                                  cw1h, overs[4])]))
        return out

    end = now + timedelta(seconds=1)
    if current is _NO_ENTRY:  # not summed by the caller already
        current = _hour_entry(conn, this_hour, end)
    if current is not None:
        entries.append(current)
    # An hour that starts exactly 5 h into a block (the current one too) is walked
    # event by event.
    return hour_block_list(entries, now, lambda hour: single(hour, min(hour + HOUR, end)))


def _hour_entry(conn: sqlite3.Connection, start: datetime,
                end: datetime) -> tuple[datetime, datetime, list[tuple]] | None:
    """The events of [start, end) (within one hour) as one ``hour_block_list`` entry,
    summed in SQL like a rollup hour: thousands of events an hour are one entry."""
    from tokentop.store.usage.reports import _tier_threshold

    where, args = _range(start, end)
    rows = conn.execute(for_store(conn, groupsql.hour_entry_sql(where, _tier_threshold(),
                                                                _calc())), args).fetchall()
    if not rows:
        return None
    first = min(_fast_ts(r[14]) for r in rows)
    last = max(_fast_ts(r[15]) for r in rows)
    return first, last, [r[:14] for r in rows]


def series(conn: sqlite3.Connection, start: datetime, end: datetime, interval: int = 1,
           ) -> tuple[list[int], list[int], list[int]]:
    """Dense per-bucket (``interval`` 1 or 60 minutes) tokens and cost in micro-USD over
    [start, end): bucket start minutes (epoch minutes), tokens, cost. The shape the
    Overview's ``TimeChart`` draws."""
    if interval not in (1, 60):
        raise ValueError("interval must be 1 or 60 minutes")
    width = 16 if interval == 1 else 13
    if width == 16:
        where, args = _range(start, end)
        rows = conn.execute(for_store(conn, _sums_sql(f"substr(occurred_at, 1, {width})",
                                                      where)), args).fetchall()
    else:
        rows = _group_rows(conn, ("hour",), start, end, uses_rollup(conn))
    price_of = Pricer()
    tokens: dict[int, int] = {}
    cost: dict[int, float] = {}
    for row in rows:
        key = row[0] + (":00" if width == 16 else ":00:00")
        minute = int(parse_ts(key).timestamp()) // 60
        s = _sums(row, 1, price_of, set())
        tokens[minute] = tokens.get(minute, 0) + s.tokens
        cost[minute] = cost.get(minute, 0.0) + s.cost
    first = int(start.timestamp()) // 60
    first -= first % interval
    last = (int(end.timestamp()) - 1) // 60
    minutes = list(range(first, last + 1, interval))
    return (minutes, [tokens.get(m, 0) for m in minutes],
            [round(cost.get(m, 0.0) * 1_000_000) for m in minutes])


# -- quotas ----------------------------------------------------------------------------

def quotas(conn: sqlite3.Connection) -> list[Quota]:
    """The latest snapshot's metrics per provider/account, with time to 100%
    (``tokentop.store.usage.quotas``)."""
    return latest_quotas(conn)
