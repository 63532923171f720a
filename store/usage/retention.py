"""Retention: keep the store small and fast as months of usage pile up.

- Events older than N days (default 90) are deleted, in batches of short
  transactions, so a reader or a collector is never blocked for long.
- Raw payloads are blanked (``'{}'``, as openusage does) an hour after ingest: by
  then everything useful is in ``usage_events``.
- Raw events no event references any more (orphans) are deleted.
- ANALYZE refreshes the planner's statistics; VACUUM gives space back to the file
  system, but only when many rows went (it rewrites the whole file).
- The WAL is checkpointed (TRUNCATE) at the end; writers also call
  :meth:`UsageStore.maybe_checkpoint` after each ingest (every 60 s at most).
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tokentop.store.pricing import PriceTable
from tokentop.store.usage import rollup
from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.ingest import COLUMNS
from tokentop.store.usage.rollup import Deltas
from tokentop.store.usage.timefmt import bound

EVENT_DAYS = 90
RAW_PAYLOAD_HOURS = 1
BATCH = 5000
VACUUM_MIN_ROWS = 50_000  # VACUUM when at least this many events went...
VACUUM_FRACTION = 0.25  # ...or this share of them


@dataclass
class RetentionResult:
    events_deleted: int = 0
    payloads_cleared: int = 0
    orphans_deleted: int = 0
    vacuumed: bool = False


def _batched(store: UsageStore, sql: str, args: tuple, batch: int) -> int:
    """Run a ``... LIMIT ?`` statement in its own transactions until it changes nothing."""
    conn = store.conn
    total = 0
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            n = conn.execute(sql, (*args, batch)).rowcount
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        total += n
        if n < batch:
            return total


def prune_old_events(
    store: UsageStore, days: int = EVENT_DAYS, *, now: datetime | None = None,
    batch: int = BATCH,
) -> int:
    """Delete events that occurred more than ``days`` days ago; returns how many.

    Each batch takes its events out of the hourly rollup in the same transaction
    (``RETURNING`` hands back exactly the rows deleted), so readers never see the two
    disagree; quota snapshots that old go too.
    """
    cutoff = bound((now or datetime.now(UTC)) - timedelta(days=days))
    conn = store.conn
    has_rollup = rollup.available(conn)
    threshold = PriceTable.load().tier_threshold
    sql = ("DELETE FROM usage_events WHERE rowid IN (SELECT rowid FROM usage_events"
           f" WHERE occurred_at < ? LIMIT ?) RETURNING {', '.join(COLUMNS)}")
    total = 0
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            gone = conn.execute(sql, (cutoff, batch)).fetchall()
            if has_rollup and gone:
                deltas = Deltas(threshold)
                for row in gone:
                    deltas.remove(row)
                deltas.write(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        total += len(gone)
        if len(gone) < batch:
            break
    with contextlib.suppress(sqlite3.OperationalError):  # a store without the table
        _batched(store, "DELETE FROM usage_limit_snapshots WHERE rowid IN (SELECT rowid"
                 " FROM usage_limit_snapshots WHERE occurred_at < ? LIMIT ?)", (cutoff,), batch)
    return total


def clear_raw_payloads(
    store: UsageStore, hours: float = RAW_PAYLOAD_HOURS, *, now: datetime | None = None,
    batch: int = BATCH,
) -> int:
    """Blank the payload of raw events ingested more than ``hours`` ago."""
    cutoff = bound((now or datetime.now(UTC)) - timedelta(hours=hours))
    return _batched(
        store,
        "UPDATE usage_raw_events SET source_payload = '{}' WHERE rowid IN (SELECT rowid"
        " FROM usage_raw_events WHERE ingested_at < ? AND source_payload != '{}' LIMIT ?)",
        (cutoff,),
        batch,
    )


def prune_orphan_raw_events(store: UsageStore, *, batch: int = BATCH) -> int:
    """Delete raw events that no event points at any more."""
    return _batched(
        store,
        "DELETE FROM usage_raw_events WHERE rowid IN (SELECT r.rowid FROM usage_raw_events r"
        " WHERE NOT EXISTS (SELECT 1 FROM usage_events e"
        " WHERE e.raw_event_id = r.raw_event_id) LIMIT ?)",
        (),
        batch,
    )


def vacuum(store: UsageStore) -> None:
    """Rewrite the file without its free pages, then reset the WAL."""
    store.conn.execute("VACUUM")
    store.checkpoint()


def run(
    store: UsageStore,
    days: int = EVENT_DAYS,
    *,
    raw_payload_hours: float = RAW_PAYLOAD_HOURS,
    now: datetime | None = None,
    batch: int = BATCH,
    allow_vacuum: bool = True,
) -> RetentionResult:
    """The whole retention pass; VACUUM only when many rows went."""
    before = store.conn.execute("SELECT count(*) FROM usage_events").fetchone()[0]
    result = RetentionResult()
    result.events_deleted = prune_old_events(store, days, now=now, batch=batch)
    result.payloads_cleared = clear_raw_payloads(store, raw_payload_hours, now=now,
                                                 batch=batch)
    result.orphans_deleted = prune_orphan_raw_events(store, batch=batch)
    store.conn.execute("ANALYZE")
    many = result.events_deleted >= VACUUM_MIN_ROWS or (
        before and result.events_deleted >= VACUUM_FRACTION * before
    )
    if allow_vacuum and result.events_deleted and many:
        vacuum(store)
        result.vacuumed = True
    else:
        store.checkpoint()
    return result
