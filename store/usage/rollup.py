"""The hourly rollup: what the Usage screen reads instead of millions of events.

A refresh over a store of 5M events must take <= 100 ms (issue 3); a GROUP BY over the
events of a 30-day window takes seconds. ``usage_rollup_hour`` holds, per UTC hour and
per (event type, provider, agent, project, model, priced-by-source?, tool),
the sums the read model needs: tokens of each kind, the source's cost, the number of
events, the per-message token excess over the price tier (so the bundled price can be
applied to sums exactly as the reports apply it per message), and the first and last
``occurred_at`` (so 5-hour blocks, which start on the hour, can be walked hour by hour).

Keys hold ``''`` for NULL (a primary key column cannot usefully be NULL); the readers
turn ``''`` back into "unknown". Sessions have a table of their own,
``usage_rollup_session_hour`` (events per hour, type and session), so that "sessions in
a window" stays an exact ``COUNT(DISTINCT)`` without multiplying the main table's rows
by the sessions of each hour.

It is maintained in the same transaction as the events (``ingest_batch`` adds each
inserted event and swaps an enriched event's old contribution for its new one), so it
never disagrees with ``usage_events``; :func:`rebuild` recomputes any range of hours
from the events in SQL (migration, retention's boundary hour, ``tokentop db check``).
Only tokentop's own store has it: a foreign database (openusage's) is read from its
events directly.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

TABLE = "usage_rollup_hour"
SESSIONS = "usage_rollup_session_hour"

DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
  hour TEXT NOT NULL,
  event_type TEXT NOT NULL,
  provider_id TEXT NOT NULL,
  agent_name TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  model TEXT NOT NULL,
  calc INTEGER NOT NULL,
  tool_name TEXT NOT NULL,
  input INTEGER NOT NULL,
  output INTEGER NOT NULL,
  cache_write INTEGER NOT NULL,
  cache_read INTEGER NOT NULL,
  cost REAL NOT NULL,
  events INTEGER NOT NULL,
  input_over INTEGER NOT NULL,
  output_over INTEGER NOT NULL,
  cache_write_over INTEGER NOT NULL,
  cache_read_over INTEGER NOT NULL,
  first_at TEXT NOT NULL,
  last_at TEXT NOT NULL,
  PRIMARY KEY (hour, event_type, provider_id, agent_name, workspace_id, model, calc,
               tool_name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS {SESSIONS} (
  hour TEXT NOT NULL,
  event_type TEXT NOT NULL,
  session_id TEXT NOT NULL,
  events INTEGER NOT NULL,
  PRIMARY KEY (hour, event_type, session_id)
) WITHOUT ROWID;
"""

KEYS = ("hour", "event_type", "provider_id", "agent_name", "workspace_id", "model", "calc",
        "tool_name")
SUMS = ("input", "output", "cache_write", "cache_read", "cost", "events", "input_over",
        "output_over", "cache_write_over", "cache_read_over")

UPSERT_SQL = (
    f"INSERT INTO {TABLE} ({', '.join(KEYS + SUMS)}, first_at, last_at) VALUES "
    f"({', '.join('?' * (len(KEYS) + len(SUMS) + 2))}) "
    f"ON CONFLICT ({', '.join(KEYS)}) DO UPDATE SET "
    + ", ".join(f"{c} = {c} + excluded.{c}" for c in SUMS)
    + ", first_at = MIN(first_at, excluded.first_at), last_at = MAX(last_at, excluded.last_at)"
)
SESSION_UPSERT_SQL = (
    f"INSERT INTO {SESSIONS} (hour, event_type, session_id, events) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (hour, event_type, session_id) DO UPDATE SET events = events + excluded.events"
)
PRUNE_EMPTY_SQL = (
    f"DELETE FROM {TABLE} WHERE {' AND '.join(f'{k} = ?' for k in KEYS)} AND events <= 0"
)

_MATCH = (
    "occurred_at >= ?1 AND occurred_at < ?2 || '~' AND event_type = ?4"
    " AND COALESCE(provider_id, '') = ?5 AND agent_name = ?6"
    " AND COALESCE(workspace_id, '') = ?7"
    " AND COALESCE(model_raw, model_canonical, 'unknown') = ?8"
    " AND (cost_usd IS NULL) = ?9 AND COALESCE(tool_name, '') = ?10"
)
SPAN_SQL = (
    f"UPDATE {TABLE} SET first_at = (SELECT MIN(occurred_at) FROM usage_events WHERE {_MATCH}),"
    f" last_at = (SELECT MAX(occurred_at) FROM usage_events WHERE {_MATCH})"
    " WHERE hour = ?3 AND event_type = ?4 AND provider_id = ?5 AND agent_name = ?6"
    " AND workspace_id = ?7 AND model = ?8 AND calc = ?9 AND tool_name = ?10"
)

Key = tuple[str, str, str, str, str, str, int, str]


def _rebuild_sql(threshold: int, where: str) -> str:
    def over(col: str) -> str:
        return f"SUM(MAX(COALESCE({col}, 0) - {int(threshold)}, 0))"

    return f"""
        INSERT INTO {TABLE}
        SELECT substr(occurred_at, 1, 13), event_type, COALESCE(provider_id, ''),
               agent_name, COALESCE(workspace_id, ''),
               COALESCE(model_raw, model_canonical, 'unknown'), cost_usd IS NULL,
               COALESCE(tool_name, ''),
               SUM(COALESCE(input_tokens, 0)), SUM(COALESCE(output_tokens, 0)),
               SUM(COALESCE(cache_write_tokens, 0)), SUM(COALESCE(cache_read_tokens, 0)),
               TOTAL(cost_usd), COUNT(*),
               {over("input_tokens")}, {over("output_tokens")},
               {over("cache_write_tokens")}, {over("cache_read_tokens")},
               MIN(occurred_at), MAX(occurred_at)
        FROM usage_events WHERE {where}
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    """


def rebuild(conn: sqlite3.Connection, threshold: int, since_hour: str | None = None,
            until_hour: str | None = None) -> None:
    """Recompute the rollup's hours in [since_hour, until_hour] (``YYYY-MM-DDTHH``;
    ``None``: unbounded) from the events, inside the caller's transaction."""
    where, args = ["1"], []
    if since_hour is not None:
        where.append("hour >= ?")
        args.append(since_hour)
    if until_hour is not None:
        where.append("hour <= ?")
        args.append(until_hour)
    conn.execute(f"DELETE FROM {TABLE} WHERE {' AND '.join(where)}", args)
    conn.execute(f"DELETE FROM {SESSIONS} WHERE {' AND '.join(where)}", args)
    ev, ev_args = ["1"], []
    if since_hour is not None:
        ev.append("occurred_at >= ?")
        ev_args.append(since_hour)
    if until_hour is not None:
        ev.append("occurred_at < ?")
        ev_args.append(until_hour + "~")  # after every time in that hour ('~' > digits)
    conn.execute(_rebuild_sql(threshold, " AND ".join(ev)), ev_args)
    conn.execute(
        f"INSERT INTO {SESSIONS} SELECT substr(occurred_at, 1, 13), event_type, session_id,"
        f" COUNT(*) FROM usage_events WHERE session_id IS NOT NULL AND {' AND '.join(ev)}"
        " GROUP BY 1, 2, 3", ev_args)


def available(conn: sqlite3.Connection) -> bool:
    """Whether this database has tokentop's rollup (a foreign one does not)."""
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                       (TABLE,)).fetchone()
    return row is not None


class Deltas:
    """The rollup changes of one batch, summed per key before they are written.

    ``add`` / ``remove`` take a ``usage_events`` row (ingest's column order); a batch of
    thousands of events from a few sessions becomes a handful of UPSERTs.
    """

    __slots__ = ("removed", "removed_sessions", "rows", "sessions", "threshold")

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self.rows: dict[Key, list] = {}
        self.removed: set[Key] = set()
        self.sessions: dict[tuple[str, str, str], int] = {}
        self.removed_sessions: set[tuple[str, str, str]] = set()

    def add(self, row: list | tuple, sign: int = 1) -> None:
        occurred = row[1]
        model = row[11] or row[12] or "unknown"
        key: Key = (occurred[:13], row[10], row[2] or "", row[3], row[5] or "", model,
                    1 if row[20] is None else 0, row[22] or "")
        if row[6] is not None:
            skey = (key[0], key[1], row[6])
            self.sessions[skey] = self.sessions.get(skey, 0) + sign
            if sign < 0:
                self.removed_sessions.add(skey)
        t = self.threshold
        i = row[14] or 0
        o = row[15] or 0
        cr = row[17] or 0
        cw = row[18] or 0
        acc = self.rows.get(key)
        if acc is None:
            acc = self.rows[key] = [0, 0, 0, 0, 0.0, 0, 0, 0, 0, 0, occurred, occurred]
        acc[0] += sign * i
        acc[1] += sign * o
        acc[2] += sign * cw
        acc[3] += sign * cr
        acc[4] += sign * (row[20] or 0.0)
        acc[5] += sign
        acc[6] += sign * max(i - t, 0)
        acc[7] += sign * max(o - t, 0)
        acc[8] += sign * max(cw - t, 0)
        acc[9] += sign * max(cr - t, 0)
        if sign > 0:
            if occurred < acc[10]:
                acc[10] = occurred
            if occurred > acc[11]:
                acc[11] = occurred
        else:
            self.removed.add(key)

    def remove(self, row: list | tuple) -> None:
        self.add(row, -1)

    def params(self) -> Iterable[tuple]:
        for key, acc in self.rows.items():
            if acc[5] or any(acc[:5]):
                yield (*key, *acc)

    def write(self, conn: sqlite3.Connection) -> None:
        """Apply the sums; then, for keys an event left (an enriched copy replaced it,
        or retention deleted it), drop emptied rows and recompute first/last from the
        events, which MIN/MAX cannot take back. Run after the events are written."""
        conn.executemany(UPSERT_SQL, self.params())
        conn.executemany(SESSION_UPSERT_SQL,
                         [(*k, n) for k, n in self.sessions.items() if n])
        if self.removed:
            conn.executemany(PRUNE_EMPTY_SQL, self.removed)
            conn.executemany(SPAN_SQL, [(k[0], k[0], *k) for k in self.removed])
        if self.removed_sessions:
            conn.executemany(
                f"DELETE FROM {SESSIONS} WHERE hour = ? AND event_type = ? AND session_id = ?"
                " AND events <= 0", self.removed_sessions)
