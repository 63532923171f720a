"""Sessions of a window and one session's messages: the Usage screen's drill-down.

Read from the events (the rollup keeps no token sums per session), only on demand
when the user opens the session view, and always bounded by the window through the
``occurred_at`` index: over a 30-day window of a large store this is one range scan,
not a walk of the whole table. Priced by the same rule as every other figure of the
Usage screen (``read._sums``: the source's cost, else the bundled price; a model
without a price adds no cost and is counted as unpriced).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from tokentop.store.usage.read import (
    USAGE_TYPES,
    BreakdownRow,
    Sums,
    _fast_ts,
    _label,
    _range,
    _sums,
    _sums_sql,
    window_start,
)
from tokentop.store.usage.reports import Pricer, for_store

SESSION_LIMIT = 500  # sessions listed, newest activity first
MESSAGE_LIMIT = 1000  # messages of one session listed, newest first


@dataclass(frozen=True)
class SessionRow:
    """One session within a window: where, which agent, when, how much."""

    session_id: str
    project: str
    agent: str
    first: datetime
    last: datetime
    sums: Sums
    models: tuple[str, ...]  # busiest first


@dataclass(frozen=True)
class MessageRow:
    """One usage message of a session."""

    at: datetime
    model: str
    sums: Sums


@dataclass
class SessionDetail:
    """A session's models (busiest first) and messages (newest first) in a window."""

    session_id: str
    models: list[BreakdownRow] = field(default_factory=list)
    messages: list[MessageRow] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)


def _bounds(window: str, now: datetime, tz: tzinfo) -> tuple[datetime | None, datetime]:
    now = now.astimezone(UTC)
    return window_start(window, now, tz), now + timedelta(seconds=1)


def session_list(conn: sqlite3.Connection, window: str, now: datetime,
                 tz: tzinfo = UTC, limit: int = SESSION_LIMIT) -> list[SessionRow]:
    """The window's sessions, the most recently active first."""
    start, end = _bounds(window, now, tz)
    where, args = _range(start, end)
    where += " AND session_id IS NOT NULL"
    price_of = Pricer()
    sums: dict[str, Sums] = {}
    models: dict[str, dict[str, int]] = {}
    for row in conn.execute(for_store(conn, _sums_sql("session_id", where)), args):
        s = _sums(row, 1, price_of, set())
        sums.setdefault(row[0], Sums()).add(s)
        per = models.setdefault(row[0], {})
        per[row[1]] = per.get(row[1], 0) + s.tokens
    out = []
    for sid, project, agent, first, last in conn.execute(
            "SELECT session_id, MAX(workspace_id), MAX(agent_name), MIN(occurred_at),"
            f" MAX(occurred_at) FROM usage_events WHERE +event_type IN ({USAGE_TYPES})"
            f" AND {where} GROUP BY 1", args):
        ranked = sorted(models.get(sid, {}).items(), key=lambda kv: (-kv[1], kv[0]))
        out.append(SessionRow(str(sid), _label(project), _label(agent), _fast_ts(first),
                              _fast_ts(last), sums.get(sid, Sums()),
                              tuple(m for m, _ in ranked)))
    out.sort(key=lambda r: (r.last, r.session_id), reverse=True)
    return out[:limit]


def session_detail(conn: sqlite3.Connection, session_id: str, window: str, now: datetime,
                   tz: tzinfo = UTC, limit: int = MESSAGE_LIMIT) -> SessionDetail:
    """One session's models and messages within the window."""
    start, end = _bounds(window, now, tz)
    where, args = _range(start, end)
    where += " AND session_id = ?"
    args = [*args, session_id]
    price_of = Pricer()
    unpriced: set[str] = set()
    detail = SessionDetail(session_id)
    per_model: dict[str, Sums] = {}
    total = 0
    # One group per message: its time and id are keys, so each row is one message.
    sql = _sums_sql("occurred_at, COALESCE(message_id, rowid)", where)
    for row in conn.execute(for_store(conn, sql), args):
        s = _sums(row, 2, price_of, unpriced)
        model = row[2]
        per_model.setdefault(model, Sums()).add(s)
        total += s.tokens
        detail.messages.append(MessageRow(_fast_ts(row[0]), model, s))
    detail.messages.sort(key=lambda m: m.at, reverse=True)
    del detail.messages[limit:]
    detail.models = sorted(
        (BreakdownRow(m, s, s.tokens / total if total else 0.0) for m, s in per_model.items()),
        key=lambda r: (-r.sums.tokens, r.key))
    detail.unpriced = sorted(unpriced)
    return detail
