"""The read model of the usage store: what the Usage screen (and scripts) show.

Functions over a ``sqlite3`` connection in autocommit mode (``UsageStore.conn``): each
query is one statement whose rows are fetched at once, so no read transaction stays
open and a writer's WAL checkpoints are never held back. Every range uses
:func:`~store.usage.timefmt.bound`, so openusage's variable-width ``occurred_at`` and
tokentop's fixed-width one select the same events at a window's edges.

Cost is the reports' rule (``store.usage.reports``): ``cost_usd`` when the source gave
one, else the bundled price times the tokens, with the per-message tier excess summed
in SQL. A model the table does not know adds nothing and is listed as unpriced. Tokens
are input + output + cache write + cache read, as in the reports (ccusage).

Speed: one GROUP BY over the window (hour x model x provider x agent x project) feeds
the totals, every breakdown and the daily bars; sessions, tools, the last hour and
the current block are small queries of their own. See tests/bench/bench_usage_read.py.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from store.usage.reports import (
    BLOCK_ROW_SQL,
    MODEL_SQL,
    SYNTHETIC,
    Pricer,
    block_list,
)
from store.usage.timefmt import bound, parse_ts

WINDOWS: tuple[str, ...] = ("1d", "3d", "7d", "30d", "all")
WINDOW_DAYS: dict[str, int | None] = {"1d": 1, "3d": 3, "7d": 7, "30d": 30, "all": None}
BREAKDOWNS: tuple[str, ...] = ("model", "provider", "agent", "project", "tool")
USAGE_TYPES = "'message_usage'"
BLOCK_LOOKBACK = timedelta(hours=10)  # history walked to find the current 5-hour block


def window_start(window: str, now: datetime) -> datetime | None:
    """Where ``window`` starts when it ends at ``now`` (``None``: all of it)."""
    if window not in WINDOW_DAYS:
        raise ValueError(f"unknown window {window!r}: use one of {', '.join(WINDOWS)}")
    days = WINDOW_DAYS[window]
    return None if days is None else now - timedelta(days=days)


def _range(start: datetime | None, end: datetime) -> tuple[str, list[str]]:
    """``occurred_at`` in [start, end) in whole seconds, right for both text widths."""
    if start is None:
        return "occurred_at < ?", [bound(end)]
    return "occurred_at >= ? AND occurred_at < ?", [bound(start), bound(end)]


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


@dataclass(frozen=True)
class Quota:
    """One metric of the latest ``limit_snapshot`` of a provider/account."""

    provider: str
    account: str
    metric: str
    limit: float
    used: float
    unit: str
    window: str
    observed_at: datetime
    resets_at: datetime | None
    full_at: datetime | None  # projected time to 100% from the last two snapshots

    @property
    def fraction(self) -> float:
        return self.used / self.limit if self.limit > 0 else 0.0


@dataclass
class UsageView:
    """Everything the Usage screen shows for one window, read in one go."""

    window: str
    now: datetime
    totals: Sums = field(default_factory=Sums)
    sessions: int = 0
    breakdowns: dict[str, list[BreakdownRow]] = field(default_factory=dict)
    daily: list[tuple[date, int, float]] = field(default_factory=list)  # tokens, cost
    burn: Burn = field(default_factory=lambda: Burn(0.0, 0.0, 0))
    block: BlockView | None = None
    quotas: list[Quota] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)


# -- the shared group query -----------------------------------------------------------


def _sums_sql(keys: str, where: str) -> str:
    """Per (keys..., model, priced-by-source?) sums, with the tier excess per message."""
    from store.usage.reports import _over, _tier_threshold

    t = _tier_threshold()
    return f"""
        SELECT {keys}, {MODEL_SQL} AS model, cost_usd IS NULL AS calc,
               SUM(COALESCE(input_tokens, 0)), SUM(COALESCE(output_tokens, 0)),
               SUM(COALESCE(cache_write_tokens, 0)), SUM(COALESCE(cache_read_tokens, 0)),
               SUM(cost_usd), COUNT(*),
               {_over("input_tokens", t)}, {_over("output_tokens", t)},
               {_over("cache_write_tokens", t)}, {_over("cache_read_tokens", t)}
        FROM usage_events WHERE +event_type IN ({USAGE_TYPES}) AND {where}
        GROUP BY {", ".join(f"{i + 1}" for i in range(keys.count(",") + 1))}, model, calc
    """


def _sums(row: tuple, nkeys: int, price_of: Pricer, unpriced: set[str]) -> Sums:
    """The ``Sums`` of one group row of :func:`_sums_sql` (keys first)."""
    model, calc, i, o, cw, cr, given, n, io, oo, cwo, cro = row[nkeys:]
    s = Sums(i, o, cw, cr, 0.0, n)
    if not calc:
        s.cost = given or 0.0
    else:
        price = price_of(model)
        if price is not None:
            s.cost = price.cost_from_sums(i, o, cw, cr, io, oo, cwo, cro)
        elif model != SYNTHETIC and (i or o or cw or cr):
            unpriced.add(model)
            s.unpriced_tokens = i + o + cw + cr
    return s


def _fast_ts(text: str) -> datetime:
    """``parse_ts`` with a fast path for tokentop's fixed width (``...:03.512000000Z``)."""
    if len(text) == 30 and text[19] == "." and text[29] == "Z":
        return datetime.fromisoformat(text[:26] + "+00:00")
    return parse_ts(text)


def _label(value: Any, fallback: str = "unknown") -> str:
    return str(value) if value not in (None, "") else fallback


# -- the pieces -------------------------------------------------------------------------


def read_usage(conn: sqlite3.Connection, window: str, now: datetime,
               tz: tzinfo | None = None) -> UsageView:
    """Totals, breakdowns, daily bars, burn rate, current block and quotas."""
    now = now.astimezone(UTC)
    tz = tz or UTC
    start = window_start(window, now)
    view = UsageView(window=window, now=now)
    where, args = _range(start, now + timedelta(seconds=1))
    price_of = Pricer()
    unpriced: set[str] = set()
    per: dict[str, dict[str, Sums]] = {name: {} for name in BREAKDOWNS}
    days: dict[date, Sums] = {}
    local_day: dict[str, date] = {}
    sql = _sums_sql("substr(occurred_at, 1, 13), provider_id, agent_name, workspace_id", where)
    for row in conn.execute(sql, args).fetchall():
        hour, provider, agent, workspace = row[:4]
        s = _sums(row, 4, price_of, unpriced)
        view.totals.add(s)
        for name, key in (("model", row[4]), ("provider", provider), ("agent", agent),
                          ("project", workspace)):
            per[name].setdefault(_label(key), Sums()).add(s)
        d = local_day.get(hour)
        if d is None:
            d = local_day[hour] = parse_ts(hour + ":00:00").astimezone(tz).date()
        days.setdefault(d, Sums()).add(s)
    tools = conn.execute(
        "SELECT tool_name, COUNT(*), SUM(COALESCE(input_tokens, 0)),"
        " SUM(COALESCE(output_tokens, 0)), SUM(COALESCE(cache_write_tokens, 0)),"
        " SUM(COALESCE(cache_read_tokens, 0)), SUM(COALESCE(cost_usd, 0))"
        f" FROM usage_events WHERE tool_name IS NOT NULL AND {where} GROUP BY 1",
        args).fetchall()
    for name, n, i, o, cw, cr, cost in tools:
        per["tool"][_label(name)] = Sums(i, o, cw, cr, cost, n)
    view.sessions = conn.execute(
        "SELECT COUNT(DISTINCT session_id) FROM usage_events"
        f" WHERE +event_type IN ({USAGE_TYPES}) AND {where}", args).fetchone()[0]
    total_tokens = view.totals.tokens
    for name, groups in per.items():
        rows = [BreakdownRow(k, s, s.tokens / total_tokens if total_tokens else 0.0)
                for k, s in groups.items()]
        rows.sort(key=lambda r: (-r.sums.tokens, -r.sums.messages, r.key))
        view.breakdowns[name] = rows
    view.daily = [(d, s.tokens, s.cost) for d, s in sorted(days.items())]
    view.unpriced = sorted(unpriced)
    view.burn = burn_rate(conn, now)
    view.block = current_block(conn, now)
    view.quotas = quotas(conn)
    return view


def burn_rate(conn: sqlite3.Connection, now: datetime) -> Burn:
    """$/h and tokens/min over the hour ending at ``now`` (unpriced models add no cost)."""
    where, args = _range(now - timedelta(hours=1), now + timedelta(seconds=1))
    price_of = Pricer()
    total = Sums()
    for row in conn.execute(_sums_sql("1", where), args).fetchall():
        total.add(_sums(row, 1, price_of, set()))
    return Burn(total.cost, total.tokens / 60, total.tokens)


def current_block(conn: sqlite3.Connection, now: datetime) -> BlockView | None:
    """The active 5-hour block at ``now``, computed by the reports' ``block_list``.

    Only the last 10 hours are walked (an active block started at most 5 hours ago):
    a chain of blocks that began earlier (activity without a 5-hour silence for longer
    than that) may start its blocks at different hours than ``tokentop report blocks``
    over the whole history.
    """
    where, args = _range(now - BLOCK_LOOKBACK, now + timedelta(seconds=1))
    sql = f"{BLOCK_ROW_SQL} WHERE +event_type IN ({USAGE_TYPES}) AND {where}"
    rows = sorted(((_fast_ts(r[0]), *r[1:]) for r in conn.execute(sql, args).fetchall()),
                  key=lambda r: r[0])
    active = [b for b in block_list(rows, now) if b["isActive"]]
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


def series(conn: sqlite3.Connection, start: datetime, end: datetime, interval: int = 1,
           ) -> tuple[list[int], list[int], list[int]]:
    """Dense per-bucket (``interval`` 1 or 60 minutes) tokens and cost in micro-USD over
    [start, end): bucket start minutes (epoch minutes), tokens, cost. The shape the
    Overview's ``TimeChart`` draws."""
    if interval not in (1, 60):
        raise ValueError("interval must be 1 or 60 minutes")
    width = 16 if interval == 1 else 13
    where, args = _range(start, end)
    price_of = Pricer()
    tokens: dict[int, int] = {}
    cost: dict[int, float] = {}
    for row in conn.execute(_sums_sql(f"substr(occurred_at, 1, {width})", where),
                            args).fetchall():
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

QUOTA_ROWS = 400  # the newest limit_snapshot events looked at


def _snapshot_of(payload_text: str | None) -> dict[str, Any] | None:
    """The ``snapshot`` object of a stored raw payload, in either store's shape.

    openusage keeps each event's payload (``{"snapshot": {...}}``); tokentop keeps one
    manifest per ingest batch (``{"events": n, "first_payload": {...}}``). Payloads are
    blanked to ``{}`` an hour after ingest by retention, and then there is nothing.
    """
    if not payload_text:
        return None
    try:
        doc = json.loads(payload_text)
    except ValueError:
        return None
    if isinstance(doc, dict) and isinstance(doc.get("first_payload"), dict):
        doc = doc["first_payload"]
    if isinstance(doc, dict) and isinstance(doc.get("snapshot"), dict):
        doc = doc["snapshot"]
    if isinstance(doc, dict) and isinstance(doc.get("metrics"), dict):
        return doc
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _time(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            return parse_ts(value)
        except (ValueError, IndexError):
            return None
    return None


def _metrics(snap: dict[str, Any]) -> Iterable[tuple[str, float, float, str, str]]:
    for name, m in snap["metrics"].items():
        if not isinstance(m, dict):
            continue
        limit = _number(m.get("limit"))
        used = _number(m.get("used"))
        remaining = _number(m.get("remaining"))
        if used is None and limit is not None and remaining is not None:
            used = limit - remaining
        if limit is None and used is not None and remaining is not None:
            limit = used + remaining
        if limit is None or used is None or limit <= 0:
            continue
        yield str(name), limit, used, str(m.get("unit") or ""), str(m.get("window") or "")


def quotas(conn: sqlite3.Connection) -> list[Quota]:
    """The latest snapshot's metrics per provider/account, with time to 100%.

    The projection is the straight line through the metric's two latest observations
    (same limit, usage grown); none when usage did not grow or only one is known.
    """
    try:
        rows = conn.execute(
            "SELECT e.occurred_at, e.provider_id, e.account_id, r.source_payload"
            " FROM usage_events e LEFT JOIN usage_raw_events r"
            " ON r.raw_event_id = e.raw_event_id"
            " WHERE e.event_type = 'limit_snapshot'"
            # "+": order after finding them by event_type, not by walking the time index
            # backwards through every event (seconds over 1M events).
            " ORDER BY +e.occurred_at DESC LIMIT ?", (QUOTA_ROWS,)).fetchall()
    except sqlite3.OperationalError:
        return []
    seen: dict[tuple[str, str, str], list[tuple[datetime, float, float, str, str,
                                                datetime | None]]] = {}
    latest: dict[tuple[str, str], datetime] = {}
    parsed = sorted(((parse_ts(r[0]), *r[1:]) for r in rows), key=lambda r: r[0],
                    reverse=True)
    for at, provider, account, payload in parsed:
        snap = _snapshot_of(payload)
        if snap is None:
            continue
        provider = _label(snap.get("provider_id") or provider)
        account = _label(snap.get("account_id") or account, "")
        pa = (provider, account)
        latest.setdefault(pa, at)
        resets = snap.get("resets") if isinstance(snap.get("resets"), dict) else {}
        for name, limit, used, unit, window in _metrics(snap):
            obs = seen.setdefault((provider, account, name), [])
            if len(obs) < 2:
                obs.append((at, limit, used, unit, window, _time(resets.get(name))))
    out = []
    for (provider, account, name), obs in seen.items():
        at, limit, used, unit, window, resets_at = obs[0]
        if at != latest[(provider, account)]:
            continue  # a metric the newest snapshot no longer reports
        full_at = None
        if len(obs) == 2:
            at0, limit0, used0 = obs[1][:3]
            dt = (at - at0).total_seconds()
            if limit0 == limit and used > used0 and dt > 0:
                full_at = at + timedelta(seconds=(limit - used) / ((used - used0) / dt))
        out.append(Quota(provider, account, name, limit, used, unit, window, at,
                         resets_at, full_at))
    out.sort(key=lambda q: (q.provider, q.account, q.metric))
    return out
