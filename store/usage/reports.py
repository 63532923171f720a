"""ccusage-shaped reports (daily, monthly, session, blocks) from the usage store.

The JSON documents have ccusage's keys, nesting and ordering (keys sorted, as ccusage
prints them), so a script written against ``ccusage claude daily --json`` reads
``tokentop report daily --json`` unchanged. The numbers come from the store, where each
message is counted once however many log files repeat it.

Cost of an event: ``cost_usd`` when the source reported one (Claude's ``costUSD``), else
the bundled price table times its tokens. A model the table does not know adds no cost
and is listed under ``totals.unpricedModels`` and ``missingPricing`` (ccusage's keys),
never counted as $0 silently.

Speed: daily, monthly and session reports aggregate in SQL (one group per UTC hour and
model), so they stay fast over millions of events; the per-message tier surcharge is
summed in SQL as the tokens beyond the tier threshold. Only ``blocks`` walks events one
by one, because a block boundary depends on the gap between consecutive events.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tokentop.store.pricing import PriceTable
from tokentop.store.usage import groupsql, rollup
from tokentop.store.usage.bounds import EARLIEST, latest
from tokentop.store.usage.costing import SYNTHETIC, Pricer
from tokentop.store.usage.localtime import local_key_sql, offset_segments
from tokentop.store.usage.ownership import read_only_uri
from tokentop.store.usage.rollup import MODEL_EXPR
from tokentop.store.usage.schema import (
    DETAILS_PREDICATE,
    SCHEMA_VERSION,
    has_tokentop_columns,
    missing_tokentop_columns,
    rollup_basis,
    version,
)
from tokentop.store.usage.semantics import COUNTED_SQL, GIVEN_COST_SQL, INPUT_SQL, calc_sql
from tokentop.store.usage.timefmt import bound, parse_ts

BLOCK = timedelta(hours=5)  # a Claude billing block


@functools.cache
def sources() -> dict[str, str | None]:
    """``--source`` values (ccusage's subcommand names) -> the agent_name of their
    events. Built on first use: the agents' modules cost ~15 ms to import, which the
    read model's other users (``tokentop statusline``) need not pay."""
    from tokentop.store.usage.agents import AGENTS

    return {"all": None, "claude": "claude_code", "codex": "codex",
            **{a.name: a.system for a in AGENTS}}


def source_names() -> str:
    return ", ".join(n for n in sources() if n != "all") + " or all"


def __getattr__(name: str) -> Any:
    """``SOURCES`` and ``SOURCE_NAMES``, the names callers know, built lazily."""
    if name == "SOURCES":
        return sources()
    if name == "SOURCE_NAMES":
        return source_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


USAGE_EVENT_TYPES = ("message_usage",)


class ReportError(Exception):
    """A problem the user can fix (bad date, unknown timezone, unreadable store)."""


@dataclass(frozen=True)
class ReportOptions:
    """What to include. ``since``/``until`` are inclusive local dates in ``tz``."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    since: date | None = None
    until: date | None = None
    source: str = "all"
    now: datetime | None = None  # injected by tests; default: the wall clock


def parse_day(text: str) -> date:
    """``YYYYMMDD`` (ccusage's format) or ``YYYY-MM-DD``."""
    t = text.strip().replace("-", "")
    if not re.fullmatch(r"\d{8}", t):
        raise ReportError(f"bad date {text!r}: use YYYYMMDD")
    try:
        return date(int(t[:4]), int(t[4:6]), int(t[6:]))
    except ValueError as e:
        raise ReportError(f"bad date {text!r}: {e}") from None


def parse_tz(name: str | None) -> ZoneInfo:
    """An IANA zone; ``None`` is the system's local zone (as ccusage defaults)."""
    if not name:
        return _local_zone()
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        raise ReportError(f"unknown timezone {name!r}") from None


def _local_zone() -> ZoneInfo:
    """``$TZ`` when it names a zone, else the zone ``/etc/localtime`` links to, else UTC."""
    env = os.environ.get("TZ", "").lstrip(":")
    if env:
        with contextlib.suppress(ValueError, OSError, KeyError):
            return ZoneInfo(env)
    try:
        link = Path("/etc/localtime").resolve()
        if "zoneinfo/" in str(link):
            return ZoneInfo(str(link).split("zoneinfo/", 1)[1])
    except (OSError, ValueError, KeyError):
        pass
    return ZoneInfo("UTC")


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection: reports never write, and never to a foreign database."""
    if not path.exists():
        raise ReportError(f"usage store not found: {path}")
    uri = read_only_uri(path)
    try:
        try:
            conn = _probe(uri)
        except sqlite3.OperationalError:
            # A WAL store whose directory this user cannot write (a shared box, another
            # user's store): SQLite cannot make its -shm. With no -wal present nothing
            # is writing it, so it is read as the immutable file it is for now.
            if "immutable=1" in uri or Path(f"{path}-wal").exists():
                raise
            conn = _probe(uri + "&immutable=1")
    except sqlite3.DatabaseError as e:
        raise ReportError(f"cannot read usage store {path}: {e}") from None
    return conn


def _probe(uri: str) -> sqlite3.Connection:
    conn = sqlite3.connect(uri, uri=True)
    try:
        conn.execute("PRAGMA query_only = ON")
        conn.execute("SELECT 1 FROM usage_events LIMIT 1").fetchall()
    except BaseException:
        conn.close()
        raise
    return conn


# --- time helpers: the store holds UTC text, fixed-width or openusage's variable width


def iso_ms(dt: datetime) -> str:
    """JavaScript's ``toISOString``: what ccusage prints for times."""
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _day_start(d: date, tz: ZoneInfo) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=tz)


def _whole_hour_zone(tz: ZoneInfo) -> bool:
    """True when every recent UTC offset of ``tz`` is whole hours (hour groups suffice)."""
    year = datetime.now(UTC).year
    for y in range(year - 3, year + 2):
        for month in (1, 4, 7, 10):
            off = datetime(y, month, 1, tzinfo=tz).utcoffset() or timedelta()
            if off.total_seconds() % 3600:
                return False
    return True


# --- the shared SQL filter


def _where(opts: ReportOptions) -> tuple[str, list[Any]]:
    types = ",".join("?" * len(USAGE_EVENT_TYPES))
    # "+event_type": not through the (event_type, provider) index, whose order makes
    # every row a random lookup; a scan, or the occurred_at index for a date range.
    # times outside the sane window (an older store, another writer) are not usage a
    # report can place; "+": the bound alone must not pull in the occurred_at index
    clauses = [f"+event_type IN ({types})", COUNTED_SQL, "+occurred_at >= ?",
               "+occurred_at < ?"]
    args: list[Any] = [*USAGE_EVENT_TYPES, bound(EARLIEST), bound(latest())]
    if opts.source not in sources():
        raise ReportError(f"unknown source {opts.source!r}: use {source_names()}")
    agent = sources()[opts.source]
    if agent:
        clauses.append("agent_name = ?")
        args.append(agent)
    if opts.since:
        clauses.append("occurred_at >= ?")
        args.append(bound(_day_start(opts.since, opts.tz)))
    if opts.until:
        clauses.append("occurred_at < ?")
        args.append(bound(_day_start(opts.until + timedelta(days=1), opts.tz)))
    return " AND ".join(clauses), args


_MODEL = MODEL_EXPR  # a fast-mode message's model is ``<model>-fast`` (ccusage's name)
_CW1H, _CW5M = groupsql.CW1H, groupsql.CW5M  # the 1-hour cache writes; the rest


def for_store(conn: sqlite3.Connection, sql: str) -> str:
    """``sql`` for ``conn``'s store: a foreign one (openusage's) has no ``tokentop_*``
    columns, so they read as NULL there (no 1-hour split, no fast mode, every cost the
    writer's own); nor has a store of ours an older tokentop migrated, for the newer
    ones, while it is read without being migrated."""
    for name in missing_tokentop_columns(conn):
        sql = sql.replace(name, "NULL")
    return sql


_over = groupsql.over_sql


def _group_sql(key: str, where: str, extra: str = "") -> str:
    """Sums per (key, model, priced-by-source?), with per-message excess over the tier.

    First and last times compare with the ``Z`` removed: openusage's variable-width
    strings otherwise misorder within a second ("...:59Z" > "...:59.5Z").
    """
    t = _tier_threshold()
    return f"""
        SELECT {key} AS k, {_MODEL} AS model, {calc_sql(_contexts())} AS calc,
               MIN(replace(occurred_at, 'Z', '')), MAX(replace(occurred_at, 'Z', '')),
               SUM({INPUT_SQL}), SUM(COALESCE(output_tokens, 0)),
               SUM(COALESCE(cache_write_tokens, 0)), SUM(COALESCE(cache_read_tokens, 0)),
               SUM({GIVEN_COST_SQL}),
               {_over(INPUT_SQL, t)}, {_over("output_tokens", t)},
               {_over(_CW5M, t)},
               {_over("cache_read_tokens", t)},
               SUM({_CW1H}), {_over(_CW1H, t)}
               {extra}
        FROM usage_events WHERE {where}
        GROUP BY k, model, calc
    """


def _tier_threshold() -> int:
    return PriceTable.load().tier_threshold


def _contexts() -> tuple[int, ...]:
    return PriceTable.load().context_thresholds


# --- accumulation


@dataclass
class _ModelSums:
    input: int = 0
    output: int = 0
    cache_write: int = 0
    cache_read: int = 0
    cost: float = 0.0
    missing: bool = False
    first: str = "~"

    def json(self, name: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "cacheCreationTokens": self.cache_write, "cacheReadTokens": self.cache_read,
            "cost": self.cost, "inputTokens": self.input, "modelName": name,
            "outputTokens": self.output,
        }
        if self.missing:
            out["missingPricing"] = True
        return out


@dataclass
class _Group:
    models: dict[str, _ModelSums] = field(default_factory=dict)
    first: str = "~"
    last: str = ""
    workspace: str | None = None

    def add(self, model: str, row: tuple, price_of: Pricer) -> None:
        (_, _, calc, first, last, i, o, cw, cr, given, io, oo, cwo, cro, cw1h,
         cw1ho) = row[:16]
        s = self.models.get(model)
        if s is None:
            s = self.models[model] = _ModelSums()
        s.input += i
        s.output += o
        s.cache_write += cw
        s.cache_read += cr
        if calc:
            cost = price_of.cost(model, i, o, cw, cr, io, oo, cwo, cro, cw1h, cw1ho, calc)
            if cost is None:
                if model != SYNTHETIC and (i or o or cw or cr):
                    s.missing = True
            else:
                s.cost += cost
        else:
            s.cost += given or 0.0
        s.first = min(s.first, first)
        self.first = min(self.first, first)
        self.last = max(self.last, last)

    def totals(self) -> dict[str, Any]:
        i = sum(s.input for s in self.models.values())
        o = sum(s.output for s in self.models.values())
        cw = sum(s.cache_write for s in self.models.values())
        cr = sum(s.cache_read for s in self.models.values())
        return {
            "cacheCreationTokens": cw, "cacheReadTokens": cr, "inputTokens": i,
            "outputTokens": o, "totalCost": sum(s.cost for s in self.models.values()),
            "totalTokens": i + o + cw + cr,
        }

    def entry(self) -> dict[str, Any]:
        """Totals plus ccusage's ``modelsUsed`` (first use first) and ``modelBreakdowns``
        (costliest first). The synthetic placeholder is in neither, as in ccusage."""
        real = [(n, s) for n, s in self.models.items() if n != SYNTHETIC]
        used = [n for n, s in sorted(real, key=lambda kv: kv[1].first)]
        breakdowns = [s.json(n) for n, s in sorted(real, key=lambda kv: -kv[1].cost)]
        return {**self.totals(), "modelBreakdowns": breakdowns, "modelsUsed": used}


def _grand_totals(groups: Iterable[_Group]) -> dict[str, Any]:
    total = _Group()
    unpriced: set[str] = set()
    for g in groups:
        for name, s in g.models.items():
            t = total.models.setdefault(name, _ModelSums())
            t.input += s.input
            t.output += s.output
            t.cache_write += s.cache_write
            t.cache_read += s.cache_read
            t.cost += s.cost
            if s.missing:
                unpriced.add(name)
    out = total.totals()
    if unpriced:
        out["unpricedModels"] = sorted(unpriced)
    return out


def _rolled_sql(opts: ReportOptions, key: str = "hour") -> tuple[str, list[Any]]:
    """:func:`_group_sql`'s rows per ``key`` (an expression of the UTC ``hour``), from
    the hourly rollup: the same sums, already added up per hour, model and ``calc``
    (thousands of rows, not millions of events). The hour-and-model grain unless one
    agent is asked for."""
    _where(opts)  # the same checks (unknown source) as the events path
    agent = sources()[opts.source]
    table = rollup.HOUR.table if agent else rollup.HOUR_MODEL.table
    clauses = ["event_type IN (" + ",".join("?" * len(USAGE_EVENT_TYPES)) + ")",
               "+hour >= ?", "+hour < ?"]
    args: list[Any] = [*USAGE_EVENT_TYPES, bound(EARLIEST)[:13], bound(latest())[:13]]
    if agent:
        clauses.append("agent_name = ?")
        args.append(agent)
    if opts.since:
        clauses.append("hour >= ?")
        args.append(bound(_day_start(opts.since, opts.tz))[:13])
    if opts.until:
        clauses.append("hour < ?")
        args.append(bound(_day_start(opts.until + timedelta(days=1), opts.tz))[:13])
    return f"""
        SELECT {key} AS k, model, calc,
               MIN(replace(first_at, 'Z', '')), MAX(replace(last_at, 'Z', '')),
               SUM(input), SUM(output), SUM(cache_write), SUM(cache_read), SUM(cost),
               SUM(input_over), SUM(output_over), SUM(cache_write_over),
               SUM(cache_read_over), SUM(cache_write_1h), SUM(cache_write_1h_over)
        FROM {table} WHERE {" AND ".join(clauses)}
        GROUP BY k, model, calc
    """, args


def _rollup_current(conn: sqlite3.Connection) -> bool:
    """Whether the store's rollup is tokentop's and built with today's price basis."""
    return (rollup.available(conn) and version(conn) >= SCHEMA_VERSION
            and rollup_basis(conn) == rollup.basis(PriceTable.load().tier_threshold))


def _by_period(conn: sqlite3.Connection, opts: ReportOptions, fmt: str,
               rolled: bool | None = None) -> dict[str, _Group]:
    """Groups keyed by the local-time period ``fmt`` (``%Y-%m-%d`` or ``%Y-%m``) of
    each event, grouped by SQLite (``tokentop.store.usage.localtime``).

    In a zone whose offsets are whole hours an hour falls in one local day, so whole
    UTC hours are enough: read from the hourly rollup when the store has a current
    one (``rolled``: force either path; both give the same document, tested), else
    from the events."""
    width = {"%Y-%m-%d": 10, "%Y-%m": 7}[fmt]
    _where(opts)  # an unknown source is an error even on an empty store
    if rolled is None:
        rolled = _whole_hour_zone(opts.tz) and _rollup_current(conn)
    table = rollup.HOUR.table if sources().get(opts.source) else rollup.HOUR_MODEL.table
    span = _span(conn, opts, table if rolled else None)
    if span is None:
        return {}
    segments = offset_segments(opts.tz, *span)
    if rolled:
        sql, args = _rolled_sql(opts, local_key_sql("hour", segments, width, hour_key=True))
    else:
        where, args = _where(opts)
        key = local_key_sql("occurred_at", segments, width)
        sql = for_store(conn, _group_sql(key, where))
    price_of = Pricer()
    periods: dict[str, _Group] = {}
    for row in conn.execute(sql, args):
        period = row[0]
        group = periods.get(period)
        if group is None:
            group = periods[period] = _Group()
        group.add(row[1], row, price_of)
    return dict(sorted(periods.items()))


def _span(conn: sqlite3.Connection, opts: ReportOptions,
          table: str | None) -> tuple[datetime, datetime] | None:
    """The UTC range a report covers: its days, narrowed to the stored data (the
    rollup's hours when ``table`` is given, else the events' times); None when empty."""
    if table is not None:
        lo_s, hi_s = conn.execute(f"SELECT MIN(hour), MAX(hour) FROM {table}").fetchone()
        if lo_s is None:
            return None
        lo, hi = parse_ts(lo_s + ":00:00"), parse_ts(hi_s + ":00:00") + timedelta(hours=1)
    else:
        lo_s, hi_s = conn.execute(
            "SELECT MIN(occurred_at), MAX(occurred_at) FROM usage_events").fetchone()
        if lo_s is None:
            return None
        try:
            lo, hi = parse_ts(lo_s), parse_ts(hi_s) + timedelta(seconds=1)
        except ValueError:  # a time we cannot read: cover every day the zone has had
            lo, hi = datetime(1970, 1, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(days=1)
    lo, hi = max(lo, EARLIEST), min(hi, latest())
    if opts.since:
        lo = max(lo, _day_start(opts.since, opts.tz))
    if opts.until:
        hi = min(hi, _day_start(opts.until + timedelta(days=1), opts.tz))
    return lo, max(lo, hi)


# --- the reports


def daily(conn: sqlite3.Connection, opts: ReportOptions, *,
          rolled: bool | None = None) -> dict[str, Any]:
    """``{"daily": [{date, ...tokens, totalCost, modelsUsed, modelBreakdowns}], "totals"}``."""
    periods = _by_period(conn, opts, "%Y-%m-%d", rolled)
    rows = [{"date": d, **g.entry()} for d, g in periods.items()]
    return {"daily": rows, "totals": _grand_totals(periods.values()),
            **claude_details(conn, opts)}


def monthly(conn: sqlite3.Connection, opts: ReportOptions, *,
            rolled: bool | None = None) -> dict[str, Any]:
    """``{"monthly": [{month: "YYYY-MM", ...}], "totals"}``."""
    periods = _by_period(conn, opts, "%Y-%m", rolled)
    rows = [{"month": m, **g.entry()} for m, g in periods.items()]
    return {"monthly": rows, "totals": _grand_totals(periods.values()),
            **claude_details(conn, opts)}


def session(conn: sqlite3.Connection, opts: ReportOptions) -> dict[str, Any]:
    """``{"sessions": [...], "totals"}``, costliest first (as ccusage).

    ``sessionId`` is the agent's session id (ccusage: the log file's name, which Claude
    Code names after the session) and ``projectPath`` the project directory name.
    """
    where, args = _where(opts)
    sql = _group_sql("COALESCE(session_id, '')", where, ", MAX(workspace_id)")
    price_of = Pricer()
    groups: dict[str, _Group] = {}
    for row in conn.execute(for_store(conn, sql), args):
        g = groups.setdefault(row[0], _Group())
        g.add(row[1], row, price_of)
        if row[16] and not g.workspace:
            g.workspace = row[16]
    rows = [
        {
            **g.entry(), "sessionId": sid or "unknown", "projectPath": project_path(g.workspace),
            "firstActivity": iso_ms(parse_ts(g.first)), "lastActivity": iso_ms(parse_ts(g.last)),
        }
        for sid, g in groups.items()
    ]
    rows.sort(key=lambda r: r["lastActivity"], reverse=True)
    rows.sort(key=lambda r: r["totalCost"], reverse=True)  # ccusage: costliest first
    return {"sessions": rows, "totals": _grand_totals(groups.values()),
            **claude_details(conn, opts, per_session=True)}


LOCAL_HOST = "local"  # this machine's own events (``tokentop_host`` NULL, schema 8)


def hosts(conn: sqlite3.Connection, opts: ReportOptions) -> dict[str, Any]:
    """``{"hosts": [{host, ...tokens, totalCost}], "totals"}``: the fleet, by the box
    each event was read on (``--host``); this machine's events are ``local``. Costliest
    first, as sessions."""
    where, args = _where(opts)
    sql = for_store(conn, _group_sql("COALESCE(tokentop_host, '')", where))
    price_of = Pricer()
    groups: dict[str, _Group] = {}
    for row in conn.execute(sql, args):
        groups.setdefault(row[0] or "", _Group()).add(row[1], row, price_of)
    rows = [{"host": host or LOCAL_HOST, **g.entry()} for host, g in sorted(groups.items())]
    rows.sort(key=lambda r: r["totalCost"], reverse=True)
    return {"hosts": rows, "totals": _grand_totals(groups.values())}


_DETAILS_SQL = """
    SELECT {key}, SUM(COALESCE(tokentop_cache_write_1h, 0)),
           COUNT(CASE WHEN tokentop_speed = 'fast' THEN 1 END),
           SUM(COALESCE(tokentop_web_search_requests, 0)),
           SUM(COALESCE(tokentop_web_fetch_requests, 0)),
           json_group_array(DISTINCT tokentop_service_tier),
           json_group_array(DISTINCT tokentop_inference_geo)
    FROM usage_events WHERE {where} AND """ + DETAILS_PREDICATE + """ GROUP BY 1
"""


def _details(row: tuple) -> dict[str, Any]:
    tiers, geos = (sorted(v for v in json.loads(text) if v) for text in row[5:7])
    return {"cacheWrite1hTokens": row[1], "fastMessages": row[2],
            "webSearchRequests": row[3], "webFetchRequests": row[4],
            "serviceTiers": tiers, "inferenceGeos": geos}


def claude_details(conn: sqlite3.Connection, opts: ReportOptions, *,
                   per_session: bool = False) -> dict[str, Any]:
    """tokentop's own section (``"tokentop"``; ccusage's keys stay as they are): what
    Claude Code 2.1 logs carry beyond tokens, kept and shown but not priced (1-hour
    cache writes, fast-mode messages, web search/fetch requests, service tiers,
    inference regions). Empty on a store without tokentop's columns (openusage's)."""
    if not has_tokentop_columns(conn):
        return {}
    where, args = _where(opts)
    total = conn.execute(_DETAILS_SQL.format(key="1", where=where), args).fetchone()
    if total is None or not any(_details(total).values()):
        return {}  # logs without any of it: ccusage's document, unchanged
    out: dict[str, Any] = {"claude": _details(total)}
    if per_session:
        sql = _DETAILS_SQL.format(key="COALESCE(session_id, 'unknown')", where=where)
        sessions = ((r[0], _details(r)) for r in conn.execute(sql, args))
        out["sessions"] = {sid: d for sid, d in sessions if any(d.values())}
    return {"tokentop": out}


def project_path(workspace: str | None) -> str:
    """ccusage's ``projectPath``: Claude Code's project directory name, which is the
    working directory with every character but letters, digits and ``-`` made ``-``
    (``/home/u/app`` -> ``-home-u-app``)."""
    if not workspace:
        return "unknown"
    if workspace.startswith("/"):
        return re.sub(r"[^A-Za-z0-9-]", "-", workspace)
    return workspace


@dataclass
class _Block:
    start: datetime
    first: datetime
    last: datetime
    entries: int = 0
    input: int = 0
    output: int = 0
    cache_write: int = 0
    cache_read: int = 0
    cost: float = 0.0
    models: dict[str, None] = field(default_factory=dict)

    @property
    def tokens(self) -> int:
        return self.input + self.output + self.cache_write + self.cache_read

    def json(self, now: datetime) -> dict[str, Any]:
        end = self.start + BLOCK
        active = now - self.last < BLOCK and now < end
        burn = projection = None
        minutes = (self.last - self.first).total_seconds() / 60
        if active and minutes > 0:
            burn = {
                "costPerHour": self.cost / minutes * 60,
                "tokensPerMinute": self.tokens / minutes,
                "tokensPerMinuteForIndicator": (self.input + self.output) / minutes,
            }
            remaining = max(0, math.floor((end - now).total_seconds() / 60))
            projection = {
                "remainingMinutes": remaining,
                "totalCost": round(self.cost + burn["costPerHour"] / 60 * remaining, 2),
                "totalTokens": round(self.tokens + burn["tokensPerMinute"] * remaining),
            }
        return {
            "actualEndTime": iso_ms(self.last), "burnRate": burn, "costUSD": self.cost,
            "endTime": iso_ms(end), "entries": self.entries, "id": iso_ms(self.start),
            "isActive": active, "isGap": False,
            "models": [m for m in self.models if m != SYNTHETIC],
            "projection": projection, "startTime": iso_ms(self.start),
            "tokenCounts": {
                "cacheCreationInputTokens": self.cache_write,
                "cacheReadInputTokens": self.cache_read,
                "inputTokens": self.input, "outputTokens": self.output,
            },
            "totalTokens": self.tokens,
        }


def _gap(last: datetime, nxt: datetime) -> dict[str, Any]:
    start = last + BLOCK
    return {
        "actualEndTime": None, "burnRate": None, "costUSD": 0, "endTime": iso_ms(nxt),
        "entries": 0, "id": f"gap-{iso_ms(start)}", "isActive": False, "isGap": True,
        "models": [], "projection": None, "startTime": iso_ms(start),
        "tokenCounts": {"cacheCreationInputTokens": 0, "cacheReadInputTokens": 0,
                        "inputTokens": 0, "outputTokens": 0},
        "totalTokens": 0,
    }


def blocks(conn: sqlite3.Connection, opts: ReportOptions, *, active_only: bool = False,
           ) -> dict[str, Any]:
    """5-hour billing blocks, computed as ccusage does.

    A block starts at its first event floored to the UTC hour and lasts 5 hours; an
    event more than 5 hours after the block's start or after the previous event starts
    a new block, and a silence longer than 5 hours becomes a gap block (from the last
    event + 5 h to the next event). The block holding ``now`` (last event under 5 h
    ago, end not reached) is active and gets a burn rate and a projection to its end.
    """
    where, args = _where(opts)
    sql = f"""
        SELECT occurred_at, {_MODEL}, {INPUT_SQL}, COALESCE(output_tokens, 0),
               COALESCE(cache_write_tokens, 0), COALESCE(cache_read_tokens, 0),
               {GIVEN_COST_SQL}, {_CW1H}
        FROM usage_events WHERE {where} ORDER BY occurred_at
    """
    rows = sorted(((parse_ts(r[0]), *r[1:]) for r in conn.execute(for_store(conn, sql), args)),
                  key=lambda r: r[0])  # re-sort: variable-width strings misorder in a second
    out = block_list(rows, opts.now or datetime.now(UTC))
    if active_only:
        out = [b for b in out if b["isActive"]]
    return {"blocks": out}


BLOCK_ROW_SQL = groupsql.BLOCK_ROW_SQL


HourEntry = tuple[datetime, datetime, list[tuple]]


def hour_block_list(entries: Iterable[HourEntry], now: datetime,
                    expand: Callable[[datetime], list[HourEntry]] | None = None,
                    ) -> list[dict[str, Any]]:
    """:func:`block_list` over the hourly rollup: ``entries`` of (first, last, parts),
    one per hour in time order, each part (model, calc, input, output, cache write,
    cache read, given cost, events, the four per-message excesses, the 1-hour cache
    writes and their excess).

    The same blocks as walking every event: a block starts on the hour and lasts 5
    hours, so it splits only on an hour boundary, and the 5-hour-silence rule compares
    an hour's first event with the previous hour's last. One exception: an event at
    exactly start + 5 h still belongs to the old block (ccusage's ``>``), so an hour
    that begins exactly then is handed to ``expand`` for its single events.
    """
    price_of = Pricer()
    out: list[dict[str, Any]] = []
    cur: _Block | None = None
    pending = [(entry, False) for entry in entries]
    pending.reverse()
    while pending:
        (first, last, parts), expanded = pending.pop()
        if (expand is not None and not expanded and cur is not None
                and first - cur.start == BLOCK
                and first == first.replace(minute=0, second=0, microsecond=0)):
            single = expand(first)
            if single:
                pending.extend((entry, True) for entry in reversed(single))
                continue
        if cur is not None and (first - cur.start > BLOCK or first - cur.last > BLOCK):
            out.append(cur.json(now))
            if first - cur.last > BLOCK:
                out.append(_gap(cur.last, first))
            cur = None
        if cur is None:
            cur = _Block(start=first.replace(minute=0, second=0, microsecond=0), first=first,
                         last=first)
        cur.last = max(cur.last, last)
        for model, calc, i, o, cw, cr, given, n, io, oo, cwo, cro, cw1h, cw1ho in parts:
            cur.entries += n
            cur.input += i
            cur.output += o
            cur.cache_write += cw
            cur.cache_read += cr
            if not calc:
                cur.cost += given or 0.0
            else:
                cost = price_of.cost(model, i, o, cw, cr, io, oo, cwo, cro, cw1h, cw1ho, calc)
                if cost is not None:
                    cur.cost += cost
            cur.models.setdefault(model, None)
    if cur is not None:
        out.append(cur.json(now))
    return out


def block_list(rows: Iterable[tuple], now: datetime) -> list[dict[str, Any]]:
    """ccusage's blocks (and gaps) over ``rows`` of (time, model, input, output,
    cache write, cache read, given cost, 1-hour cache writes), sorted by time. Shared
    with the read model."""
    price_of = Pricer()
    out: list[dict[str, Any]] = []
    cur: _Block | None = None
    for ts, model, i, o, cw, cr, given, cw1h in rows:
        if cur is not None and (ts - cur.start > BLOCK or ts - cur.last > BLOCK):
            out.append(cur.json(now))
            if ts - cur.last > BLOCK:
                out.append(_gap(cur.last, ts))
            cur = None
        if cur is None:
            cur = _Block(start=ts.replace(minute=0, second=0, microsecond=0), first=ts, last=ts)
        cur.last = ts
        cur.entries += 1
        cur.input += i
        cur.output += o
        cur.cache_write += cw
        cur.cache_read += cr
        if given is not None:
            cur.cost += given
        else:
            cost = price_of.cost_one(model, i, o, cw, cr, cw1h)
            if cost is not None:
                cur.cost += cost
        cur.models.setdefault(model, None)
    if cur is not None:
        out.append(cur.json(now))
    return out


# Shared with the read model (tokentop.store.usage.read): one cost rule for reports and the UI.
MODEL_SQL = _MODEL
group_sql = _group_sql

REPORTS = {"daily": daily, "monthly": monthly, "session": session, "blocks": blocks,
           "hosts": hosts}
