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

Coarser grains of the same sums keep long windows cheap (over 5M events the hourly
table has ~60k rows, and a GROUP BY over all of them costs more than a refresh may):
``usage_rollup_day`` has the same keys per UTC day (a window's whole days),
``usage_rollup_hour_model`` only (hour, type, model, priced-by-source?) for the daily
bars in any time zone and the 5-hour blocks, and ``usage_rollup_session_day`` sessions
per UTC day. Ingest accumulates a batch per hour key and derives the coarser grains
from those few sums when it writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from tokentop.store.pricing import PriceTable
from tokentop.store.usage.costing import FAST_SUFFIX  # fast-mode sums are kept apart
from tokentop.store.usage.semantics import (
    COUNTED_SQL,
    GIVEN_COST_SQL,
    INPUT_SQL,
    calc_of,
    calc_sql,
    counted,
    given_cost,
    input_tokens,
)

# Every key a grain may have after its time column, in this order.
ALL_KEYS = ("event_type", "provider_id", "agent_name", "workspace_id", "model", "calc",
            "tool_name")
# ``cache_write`` is all cache writes; ``cache_write_1h`` the 1-hour part of them (so the
# 5-minute part is the difference); ``cache_write_over`` is the 5-minute part's excess.
SUMS = ("input", "output", "cache_write", "cache_read", "cost", "events", "input_over",
        "output_over", "cache_write_over", "cache_read_over", "cache_write_1h",
        "cache_write_1h_over")
NSUMS = len(SUMS)
MODEL_EXPR = ("COALESCE(model_raw, model_canonical, 'unknown')"
              f" || CASE WHEN tokentop_speed = 'fast' THEN '{FAST_SUFFIX}' ELSE '' END")

# Each key over ``usage_events`` (NULL keys are stored as ``''``).
EVENT_EXPR = {
    "event_type": "event_type", "provider_id": "COALESCE(provider_id, '')",
    "agent_name": "agent_name", "workspace_id": "COALESCE(workspace_id, '')",
    "model": MODEL_EXPR, "tool_name": "COALESCE(tool_name, '')",
}


def event_expr(key: str, contexts: tuple[int, ...]) -> str:
    """A key over ``usage_events``; ``calc`` depends on the table's long-context
    thresholds (``semantics.calc_sql``)."""
    return calc_sql(contexts) if key == "calc" else EVENT_EXPR[key]


def table_contexts() -> tuple[int, ...]:
    """The long-context thresholds of the price table in force."""
    return PriceTable.load().context_thresholds


def basis(threshold: int, contexts: tuple[int, ...] | None = None) -> str:
    """What the rollup's sums were computed with, as ``tokentop_meta`` keeps it: the
    per-kind tier threshold and the long-context thresholds (either changing means a
    rebuild)."""
    if contexts is None:
        contexts = table_contexts()
    return f"{int(threshold)};{','.join(str(int(t)) for t in contexts)}"


@dataclass(frozen=True)
class Grain:
    """One rollup table: a time column (``occurred_at``'s first ``width`` characters)
    and a subset of :data:`ALL_KEYS`."""

    table: str
    time: str  # "hour" (YYYY-MM-DDTHH) or "day" (YYYY-MM-DD)
    width: int
    keys: tuple[str, ...]

    @property
    def picks(self) -> tuple[int, ...]:
        """Where each of ``keys`` sits in a full hour key (time first)."""
        return tuple(1 + ALL_KEYS.index(k) for k in self.keys)

    @property
    def key_columns(self) -> tuple[str, ...]:
        return (self.time, *self.keys)

    def ddl(self) -> str:
        cols = [f"  {self.time} TEXT NOT NULL"]
        cols += [f"  {k} {'INTEGER' if k == 'calc' else 'TEXT'} NOT NULL" for k in self.keys]
        cols += [f"  {c} {'REAL' if c == 'cost' else 'INTEGER'} NOT NULL" for c in SUMS]
        cols += ["  first_at TEXT NOT NULL", "  last_at TEXT NOT NULL"]
        return (f"CREATE TABLE IF NOT EXISTS {self.table} (\n" + ",\n".join(cols)
                + f",\n  PRIMARY KEY ({', '.join(self.key_columns)})\n) WITHOUT ROWID;\n")

    def upsert_sql(self) -> str:
        keys = self.key_columns
        return (f"INSERT INTO {self.table} ({', '.join(keys + SUMS)}, first_at, last_at)"
                f" VALUES ({', '.join('?' * (len(keys) + len(SUMS) + 2))})"
                f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
                + ", ".join(f"{c} = {c} + excluded.{c}" for c in SUMS)
                + ", first_at = MIN(first_at, excluded.first_at),"
                " last_at = MAX(last_at, excluded.last_at)")

    def prune_empty_sql(self) -> str:
        return (f"DELETE FROM {self.table} WHERE "
                + " AND ".join(f"{k} = ?" for k in self.key_columns) + " AND events <= 0")

    def span_sql(self, contexts: tuple[int, ...]) -> str:
        """first/last recomputed from the events of one key (parameters: the key)."""
        match = " AND ".join(
            ["occurred_at >= ?1", "occurred_at < ?1 || '~'"]
            + [f"{event_expr(k, contexts)} = ?{i + 2}" for i, k in enumerate(self.keys)])
        where = " AND ".join(f"{k} = ?{i + 1}" for i, k in enumerate(self.key_columns))
        return (f"UPDATE {self.table} SET"
                f" first_at = (SELECT MIN(occurred_at) FROM usage_events WHERE {match}),"
                f" last_at = (SELECT MAX(occurred_at) FROM usage_events WHERE {match})"
                f" WHERE {where}")

    def rebuild_sql(self, threshold: int, where: str, contexts: tuple[int, ...]) -> str:
        def over(col: str) -> str:
            return f"SUM(MAX(COALESCE({col}, 0) - {int(threshold)}, 0))"

        keys = ", ".join(event_expr(k, contexts) for k in self.keys)
        return f"""
            INSERT INTO {self.table}
            SELECT substr(occurred_at, 1, {self.width}), {keys},
                   SUM({INPUT_SQL}), SUM(COALESCE(output_tokens, 0)),
                   SUM(COALESCE(cache_write_tokens, 0)), SUM(COALESCE(cache_read_tokens, 0)),
                   TOTAL({GIVEN_COST_SQL}), COUNT(*),
                   {over(INPUT_SQL)}, {over("output_tokens")},
                   {over("COALESCE(cache_write_tokens, 0) - COALESCE(tokentop_cache_write_1h, 0)")},
                   {over("cache_read_tokens")},
                   SUM(COALESCE(tokentop_cache_write_1h, 0)), {over("tokentop_cache_write_1h")},
                   MIN(occurred_at), MAX(occurred_at)
            FROM usage_events WHERE {where}
            GROUP BY {", ".join(str(i + 1) for i in range(len(self.keys) + 1))}
        """


@dataclass(frozen=True)
class SessionGrain:
    """Events per (time, type, session): "sessions in a window" stays an exact
    ``COUNT(DISTINCT)`` without multiplying a sums table by sessions."""

    table: str
    time: str
    width: int

    def ddl(self) -> str:
        return (f"CREATE TABLE IF NOT EXISTS {self.table} (\n  {self.time} TEXT NOT NULL,\n"
                "  event_type TEXT NOT NULL,\n  session_id TEXT NOT NULL,\n"
                "  events INTEGER NOT NULL,\n"
                f"  PRIMARY KEY ({self.time}, event_type, session_id)\n) WITHOUT ROWID;\n")

    def upsert_sql(self) -> str:
        return (f"INSERT INTO {self.table} ({self.time}, event_type, session_id, events)"
                f" VALUES (?, ?, ?, ?) ON CONFLICT ({self.time}, event_type, session_id)"
                " DO UPDATE SET events = events + excluded.events")

    def prune_empty_sql(self) -> str:
        return (f"DELETE FROM {self.table} WHERE {self.time} = ? AND event_type = ?"
                " AND session_id = ? AND events <= 0")


HOUR = Grain("usage_rollup_hour", "hour", 13, ALL_KEYS)
DAY = Grain("usage_rollup_day", "day", 10, ALL_KEYS)
HOUR_MODEL = Grain("usage_rollup_hour_model", "hour", 13, ("event_type", "model", "calc"))
GRAINS = (HOUR, DAY, HOUR_MODEL)
SESSION_HOUR = SessionGrain("usage_rollup_session_hour", "hour", 13)
SESSION_DAY = SessionGrain("usage_rollup_session_day", "day", 10)
SESSION_GRAINS = (SESSION_HOUR, SESSION_DAY)

TABLE = HOUR.table
SESSIONS = SESSION_HOUR.table
TABLES = tuple(g.table for g in GRAINS) + tuple(g.table for g in SESSION_GRAINS)
DDL = "".join(g.ddl() for g in GRAINS) + "".join(g.ddl() for g in SESSION_GRAINS)
KEYS = HOUR.key_columns

Key = tuple[str, str, str, str, str, str, int, str]


def rebuild(conn: sqlite3.Connection, threshold: int, since_hour: str | None = None,
            until_hour: str | None = None, contexts: tuple[int, ...] | None = None) -> None:
    """Recompute the rollup's hours in [since_hour, until_hour] (``YYYY-MM-DDTHH``;
    ``None``: unbounded) from the events, inside the caller's transaction. Day grains
    recompute the whole days those hours fall in."""
    if contexts is None:
        contexts = table_contexts()
    for grain in (*GRAINS, *SESSION_GRAINS):
        where, args = ["1"], []
        ev, ev_args = [COUNTED_SQL], []
        if since_hour is not None:
            where.append(f"{grain.time} >= ?")
            args.append(since_hour[:grain.width])
            ev.append("occurred_at >= ?")
            ev_args.append(since_hour[:grain.width])
        if until_hour is not None:
            where.append(f"{grain.time} <= ?")
            args.append(until_hour[:grain.width])
            ev.append("occurred_at < ?")
            ev_args.append(until_hour[:grain.width] + "~")  # '~' sorts after any time
        conn.execute(f"DELETE FROM {grain.table} WHERE {' AND '.join(where)}", args)
        if isinstance(grain, Grain):
            conn.execute(grain.rebuild_sql(threshold, " AND ".join(ev), contexts), ev_args)
        else:
            conn.execute(
                f"INSERT INTO {grain.table} SELECT substr(occurred_at, 1, {grain.width}),"
                " event_type, session_id, COUNT(*) FROM usage_events"
                f" WHERE session_id IS NOT NULL AND {' AND '.join(ev)} GROUP BY 1, 2, 3",
                ev_args)


def available(conn: sqlite3.Connection) -> bool:
    """Whether this database has tokentop's rollup, every grain (a foreign one does not)."""
    names = {row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'usage_rollup_%'")}
    return set(TABLES) <= names


class Deltas:
    """The rollup changes of one batch, summed per hour key before they are written.

    ``add`` / ``remove`` take a ``usage_events`` row (ingest's column order); a batch of
    thousands of events from a few sessions becomes a handful of hour keys, and the
    coarser grains are summed from those when the batch is written.
    """

    __slots__ = ("contexts", "removed_sessions", "rows", "sessions", "taken", "threshold")

    def __init__(self, threshold: int, contexts: tuple[int, ...] | None = None) -> None:
        self.threshold = threshold
        self.contexts = table_contexts() if contexts is None else contexts
        self.rows: dict[Key, list] = {}
        # (key, occurred_at) of events taken out; one put back at the same key and time
        # cancels it, so an event replaced in place (a running total that grew) costs
        # no recomputation of first/last from the events
        self.taken: dict[tuple[Key, str], int] = {}
        self.sessions: dict[tuple[str, str, str], int] = {}
        self.removed_sessions: set[tuple[str, str, str]] = set()

    def add(self, row: list | tuple, sign: int = 1) -> None:
        if not counted(row[23], row[14], row[15], row[17], row[18], row[20]):  # COUNTED_SQL
            return
        occurred = row[1]
        model = row[11] or row[12] or "unknown"
        if row[28] == "fast":
            model += FAST_SUFFIX
        given = given_cost(row[20], row[34])  # GIVEN_COST_SQL
        cr = row[17] or 0
        i = input_tokens(row[2], row[14], cr)
        cw = row[18] or 0
        key: Key = (occurred[:13], row[10], row[2] or "", row[3], row[5] or "", model,
                    calc_of(given, i + cw + cr, self.contexts), row[22] or "")
        if row[6] is not None:
            skey = (key[0], key[1], row[6])
            self.sessions[skey] = self.sessions.get(skey, 0) + sign
            if sign < 0:
                self.removed_sessions.add(skey)
        t = self.threshold
        o = row[15] or 0
        cw1h = row[27] or 0
        acc = self.rows.get(key)
        if acc is None:
            acc = self.rows[key] = [0, 0, 0, 0, 0.0, 0, 0, 0, 0, 0, 0, 0, occurred, occurred]
        acc[0] += sign * i
        acc[1] += sign * o
        acc[2] += sign * cw
        acc[3] += sign * cr
        acc[4] += sign * (given or 0.0)
        acc[5] += sign
        acc[6] += sign * max(i - t, 0)
        acc[7] += sign * max(o - t, 0)
        acc[8] += sign * max(cw - cw1h - t, 0)
        acc[9] += sign * max(cr - t, 0)
        acc[10] += sign * cw1h
        acc[11] += sign * max(cw1h - t, 0)
        if sign > 0:
            back = self.taken.get((key, occurred))
            if back:
                self.taken[(key, occurred)] = back - 1
            if occurred < acc[12]:
                acc[12] = occurred
            if occurred > acc[13]:
                acc[13] = occurred
        else:
            self.taken[(key, occurred)] = self.taken.get((key, occurred), 0) + 1

    @property
    def removed(self) -> set[Key]:
        """Keys an event left for good (not put back at the same time)."""
        return {key for (key, _), n in self.taken.items() if n > 0}

    def remove(self, row: list | tuple) -> None:
        self.add(row, -1)

    def _grain_rows(self, grain: Grain) -> dict[tuple, list]:
        if grain is HOUR:
            return self.rows
        out: dict[tuple, list] = {}
        picks, width = grain.picks, grain.width
        for key, acc in self.rows.items():
            gkey = (key[0][:width], *(key[i] for i in picks))
            into = out.get(gkey)
            if into is None:
                out[gkey] = list(acc)
                continue
            for j in range(NSUMS):
                into[j] += acc[j]
            if acc[NSUMS] < into[NSUMS]:
                into[NSUMS] = acc[NSUMS]
            if acc[NSUMS + 1] > into[NSUMS + 1]:
                into[NSUMS + 1] = acc[NSUMS + 1]
        return out

    def params(self, grain: Grain = HOUR) -> Iterable[tuple]:
        for key, acc in self._grain_rows(grain).items():
            if any(acc[:NSUMS]):  # an enrichment may change only the 1-hour sums
                yield (*key, *acc)

    def write(self, conn: sqlite3.Connection) -> None:
        """Apply the sums to every grain; then, for keys an event left (an enriched copy
        replaced it, or retention deleted it), drop emptied rows and recompute first/last
        from the events, which MIN/MAX cannot take back. Run after the events are
        written."""
        for grain in GRAINS:
            conn.executemany(grain.upsert_sql(), self.params(grain))
            if self.removed:
                picks, width = grain.picks, grain.width
                gone = {(k[0][:width], *(k[i] for i in picks)) for k in self.removed}
                conn.executemany(grain.prune_empty_sql(), gone)
                conn.executemany(grain.span_sql(self.contexts), gone)
        for sgrain in SESSION_GRAINS:
            counts: dict[tuple[str, str, str], int] = {}
            for (hour, etype, sid), n in self.sessions.items():
                if n:
                    skey = (hour[:sgrain.width], etype, sid)
                    counts[skey] = counts.get(skey, 0) + n
            conn.executemany(sgrain.upsert_sql(), [(*k, n) for k, n in counts.items() if n])
            if self.removed_sessions:
                conn.executemany(sgrain.prune_empty_sql(), {
                    (k[0][:sgrain.width], k[1], k[2]) for k in self.removed_sessions})
