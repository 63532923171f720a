"""The team store's changes into the local replica the read model runs on.

Which rows: those written by the transactions that finished since the last pull. Every
row carries the transaction id (xid8) that last wrote it; a pull reads, in one
REPEATABLE READ snapshot, the rows with ``last_xmin <= tokentop_xid < xmin`` where
``xmin`` is the snapshot's oldest still-running transaction. A transaction that started
before the last pull but committed after it has an id at or above the last ``xmin``,
so it is taken now; one still running is at or above this ``xmin`` and is taken next
time. A plain sequence column could not promise that: a number drawn by a transaction
that commits late lands behind the cursor and is skipped for good. (A session left
idle in a transaction on the server holds ``xmin`` back: pulls then lag, never skip.)

How: rows are written into the replica (a tokentop store) by ``dedup_key``, a cost
the agent did not give priced again on the merged row (``_priced``), and its rollup
follows with ingest's own ``rollup.Deltas`` (the replaced row taken out, the new
one put in), in one SQLite transaction with the new cursor. A replica whose recorded
store id is not the server's (the database was recreated, the URL now names another)
is emptied and pulled whole.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import asyncpg

from tokentop.store.pricing import PriceTable
from tokentop.store.usage import ingest, rollup, schema
from tokentop.store.usage.costing import Pricer
from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.team import connection
from tokentop.store.usage.team.pgschema import (
    META_STORE_ID,
    XID,
    event_columns,
    raw_columns,
    snapshot_columns,
)

CURSOR_KEY = "team_pulled_xmin"
STORE_KEY = "team_store_id"
LOOKUP_CHUNK = 500


@dataclass
class PullResult:
    events: int = 0  # rows taken (new or changed)
    raw: int = 0


def _meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM tokentop_meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def pull(replica: UsageStore, url: str) -> PullResult:
    """Bring ``replica`` up to the team store's last finished transaction."""
    conn = replica.conn
    since = _meta(conn, CURSOR_KEY) or "0"
    known_store = _meta(conn, STORE_KEY)
    columns, raws = event_columns(), raw_columns()

    snaps = snapshot_columns()

    async def work(pg: asyncpg.Connection) -> tuple[str, str, list, list, list]:
        async with pg.transaction(isolation="repeatable_read", readonly=True):
            store_id = await pg.fetchval(
                "SELECT value FROM tokentop_meta WHERE key = $1", META_STORE_ID)
            upto = await pg.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
            start = since if store_id == known_store else "0"
            where = f"WHERE {XID} >= $1::text::xid8 AND {XID} < $2::text::xid8"
            raw_rows = await pg.fetch(f"SELECT {', '.join(raws)} FROM usage_raw_events {where}",
                                      start, upto)
            rows = await pg.fetch(f"SELECT {', '.join(columns)} FROM usage_events {where}"
                                  " ORDER BY dedup_key", start, upto)
            # a snapshot under the event id the team store kept for its event
            picked = ", ".join("e.event_id" if c == "event_id" else f"s.{c}" for c in snaps)
            snapshot_rows = await pg.fetch(
                f"SELECT {picked} FROM usage_limit_snapshots s JOIN usage_events e"
                f" ON e.dedup_key = s.dedup_key {where.replace(XID, 's.' + XID)}",
                start, upto)
        return str(store_id), str(upto), raw_rows, rows, snapshot_rows

    store_id, upto, raw_rows, rows, snapshot_rows = connection.run(url, work)
    with replica.undone_on_error():
        conn.execute("BEGIN IMMEDIATE")
        if store_id != known_store:
            _empty(conn)
        _apply(conn, raw_rows, rows, columns, raws)
        if snapshot_rows:
            conn.executemany(f"INSERT OR REPLACE INTO usage_limit_snapshots ({', '.join(snaps)})"
                             f" VALUES ({', '.join('?' * len(snaps))})",
                             [tuple(r) for r in snapshot_rows])
        conn.executemany("INSERT OR REPLACE INTO tokentop_meta VALUES (?, ?)",
                         [(CURSOR_KEY, upto), (STORE_KEY, store_id)])
        conn.execute("COMMIT")
    return PullResult(events=len(rows), raw=len(raw_rows))


def _priced(row: list, pricer: Pricer, n: int) -> tuple:
    """A cost the agent did not give is priced here, on the merged row, as ingest prices
    a row after its merge: the winner may have taken its model from the losing copy,
    which the pushing machine could not know, and the price table is this machine's."""
    if row[ingest.COST] is None or row[ingest.COST_COMPUTED]:
        row[ingest.COST] = row[ingest.COST_COMPUTED] = None
        priced = pricer.row_cost(row[:n])
        if priced is not None:
            row[ingest.COST], row[ingest.COST_COMPUTED] = priced
    return tuple(row)


def _empty(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM usage_limit_snapshots")
    conn.execute("DELETE FROM usage_events")
    conn.execute("DELETE FROM usage_raw_events")
    for table in rollup.TABLES:
        conn.execute(f"DELETE FROM {table}")


def _apply(conn: sqlite3.Connection, raw_rows: list, rows: list,
           columns: tuple[str, ...], raws: tuple[str, ...]) -> None:
    if raw_rows:
        conn.executemany(f"INSERT OR IGNORE INTO usage_raw_events ({', '.join(raws)})"
                         f" VALUES ({', '.join('?' * len(raws))})", [tuple(r) for r in raw_rows])
    if not rows:
        return
    n = len(ingest.COLUMNS)
    dedup = columns.index("dedup_key")
    stored: dict[str, tuple] = {}
    wanted = {r[dedup] for r in rows}
    keys = list({schema.dedup_suffix(k) for k in wanted})  # the index's (schema 9)
    for start in range(0, len(keys), LOOKUP_CHUNK):
        chunk = keys[start:start + LOOKUP_CHUNK]
        sql = (f"SELECT {', '.join(columns)} FROM usage_events"
               f" WHERE {schema.DEDUP_SUFFIX_SQL} IN ({', '.join('?' * len(chunk))})")
        for row in conn.execute(sql, chunk):
            if row[dedup] in wanted:
                stored[row[dedup]] = tuple(row)
    deltas = rollup.Deltas(PriceTable.load().tier_threshold)
    pricer = Pricer()
    inserts, updates = [], []
    for record in rows:
        row = _priced(list(record), pricer, n)
        old = stored.get(row[dedup])
        if old is None:
            inserts.append(row)
        elif old != row:
            deltas.remove(list(old[:n]))
            updates.append((*row[:dedup], *row[dedup + 1:], schema.dedup_suffix(row[dedup]),
                            row[dedup]))
        else:
            continue
        deltas.add(list(row[:n]))
    others = [c for c in columns if c != "dedup_key"]
    if inserts:
        conn.executemany(f"INSERT INTO usage_events ({', '.join(columns)})"
                         f" VALUES ({', '.join('?' * len(columns))})", inserts)
    if updates:
        conn.executemany(f"UPDATE usage_events SET {', '.join(c + ' = ?' for c in others)}"
                         f" WHERE {schema.DEDUP_SUFFIX_SQL} = ? AND dedup_key = ?", updates)
    deltas.write(conn)
