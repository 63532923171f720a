"""The cache's new and changed events into the team store.

The cache is held under a write transaction from the moment the server answered to the
end of the push, so no local writer changes a row between its being sent and its
outbox mark being cleared; the marks are
cleared only after PostgreSQL committed. A push that fails half way leaves the marks:
the next push sends those rows again, which the conflict clause makes a no-op for the
ones already there. Each batch is one PostgreSQL transaction (COPY into a staging table,
then one ``INSERT ... SELECT ... ORDER BY dedup_key ON CONFLICT``): concurrent pushers
take the rows' locks in the same order, so they wait for each other instead of
deadlocking; a deadlock or serialization failure still retries the batch.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import asyncpg

from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.schema import DEDUP_SUFFIX_SQL
from tokentop.store.usage.team import connection, merge
from tokentop.store.usage.team.pgschema import (
    CHANNEL,
    event_columns,
    raw_columns,
    snapshot_columns,
    stage_ddl,
)

BATCH = 20_000
RETRIES = 5


@dataclass
class PushResult:
    sent: int = 0  # rows sent (new or changed in this machine's cache)
    written: int = 0  # rows PostgreSQL inserted or changed; the rest it had already


# An outbox key's event, found through the cache's index of key suffixes (schema 9).
# CROSS JOIN keeps the outbox the outer loop: without the UNIQUE index on dedup_key the
# planner may otherwise walk every event and probe the outbox for each.
MATCH = (f"{DEDUP_SUFFIX_SQL.replace('dedup_key', 'e.dedup_key')}"
         f" = {DEDUP_SUFFIX_SQL.replace('dedup_key', 'o.dedup_key')}"
         " AND e.dedup_key = o.dedup_key")


def push(cache: UsageStore, url: str) -> PushResult:
    """Send the cache's outbox to ``url``; TeamStoreError / UsageStoreError on failure.

    The cache's write lock is taken once the server answered, not before: a server
    that is down must not keep the cache's other writer waiting for the timeout."""
    conn = cache.conn
    with cache.undone_on_error():
        result = _push(conn, url)
        if conn.in_transaction:
            conn.execute("DELETE FROM tokentop_team_outbox")
            conn.execute("COMMIT")
    return result


def _push(conn: sqlite3.Connection, url: str) -> PushResult:
    """Push inside a write transaction on the cache, left open for the caller to clear
    the outbox and commit (none is opened when there was nothing to send)."""
    columns = event_columns()
    raws = raw_columns()
    snaps = snapshot_columns()
    select = (f"SELECT {', '.join('e.' + c for c in columns)}, COALESCE(r.source_channel, '')"
              f" FROM tokentop_team_outbox o CROSS JOIN usage_events e ON {MATCH}"
              " LEFT JOIN usage_raw_events r ON r.raw_event_id = e.raw_event_id"
              " ORDER BY o.dedup_key")
    raw_select = (f"SELECT {', '.join(raws)} FROM usage_raw_events WHERE raw_event_id IN"
                  " (SELECT e.raw_event_id FROM tokentop_team_outbox o CROSS JOIN usage_events e"
                  f" ON {MATCH})")
    snapshot_select = (
        f"SELECT e.dedup_key, {', '.join('s.' + c for c in snaps)}"
        f" FROM tokentop_team_outbox o CROSS JOIN usage_events e ON {MATCH}"
        " JOIN usage_limit_snapshots s ON s.event_id = e.event_id")
    result = PushResult()
    if not conn.execute("SELECT 1 FROM tokentop_team_outbox LIMIT 1").fetchone():
        # nothing to send, but an unreachable store is said now, not at the next event
        connection.run(url, _nothing)
        return result

    async def work(pg: asyncpg.Connection) -> None:
        # connected: now no local writer may change a row between its being read here
        # and its outbox mark being cleared
        conn.execute("BEGIN IMMEDIATE")
        raw_rows = [tuple(r) for r in conn.execute(raw_select)]
        snapshot_rows = [tuple(r) for r in conn.execute(snapshot_select)]
        for statement in stage_ddl():
            await pg.execute(statement)
        if snapshot_rows:
            async with pg.transaction():
                await pg.copy_records_to_table("tokentop_stage_snapshots",
                                               records=snapshot_rows,
                                               columns=["dedup_key", *snaps])
                await pg.execute(merge.snapshot_insert_sql(snaps))
        upsert = merge.upsert_sql()
        cursor = conn.execute(select)
        rows, batch_raws = cursor.fetchmany(BATCH), raw_rows  # raw rows with the first
        while rows or batch_raws:
            result.written += await _batch(pg, upsert, rows, batch_raws, columns, raws)
            result.sent += len(rows)
            rows, batch_raws = cursor.fetchmany(BATCH), []

    connection.run(url, work)
    return result


async def _nothing(_pg: asyncpg.Connection) -> None:
    return None


async def _batch(pg: asyncpg.Connection, upsert: str, rows: list, raw_rows: list,
                 columns: tuple[str, ...], raws: tuple[str, ...]) -> int:
    for attempt in range(RETRIES):
        try:
            async with pg.transaction():
                if raw_rows:
                    await pg.copy_records_to_table("tokentop_stage_raw", records=raw_rows,
                                                   columns=list(raws))
                    await pg.execute(merge.raw_insert_sql(raws))
                if not rows:
                    return 0
                await pg.copy_records_to_table("tokentop_stage_events", records=rows,
                                               columns=[*columns, CHANNEL])
                status = await pg.execute(upsert)
                return int(status.rsplit(" ", 1)[-1])
        except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
            if attempt == RETRIES - 1:
                raise
    return 0
