"""The team store's PostgreSQL tables, derived from the SQLite schema.

Columns are read from ``schema.create`` run on an in-memory SQLite database, not
written out again here: a column a migration adds to ``usage_events`` (say a
``tokentop_*`` one) is created in PostgreSQL too (``ADD COLUMN IF NOT EXISTS`` on an
existing team store) and travels both ways without a change to this package.

PostgreSQL-only columns: ``tokentop_channel`` (the raw event's ``source_channel``,
which ranks copies: in SQLite ingest joins the raw row for it, the conflict clause
cannot) and ``tokentop_xid``, the transaction that last wrote the row, stamped by a
trigger on every insert and update (a pull takes the rows of finished transactions
since the last one, ``pull``). PostgreSQL 13 or later (xid8). ``raw_event_id`` has
no foreign key: raw rows and events of a push go in one transaction anyway.
"""

from __future__ import annotations

import functools
import sqlite3
import uuid

from tokentop.store.usage import ingest, schema

PG_TYPES = {"INTEGER": "BIGINT", "REAL": "DOUBLE PRECISION", "TEXT": "TEXT", "BLOB": "BYTEA"}
XID = "tokentop_xid"
CHANNEL = "tokentop_channel"
# One lock id for every tokentop DDL transaction: two machines creating the tables at
# the same moment would otherwise race on the catalog (CREATE ... IF NOT EXISTS is not
# atomic against itself).
DDL_LOCK = 0x746F6B656E746F70  # "tokentop"
META_STORE_ID = "team_store_id"
TABLES = ("usage_raw_events", "usage_events", "usage_limit_snapshots")


@functools.cache
def sqlite_columns(table: str) -> tuple[tuple[str, str, bool, bool], ...]:
    """(name, declared type, NOT NULL, primary key) of ``table`` in the SQLite schema."""
    conn = sqlite3.connect(":memory:")
    try:
        schema.create(conn)
        rows = conn.execute(f"PRAGMA table_info({table})").fetchall()
    finally:
        conn.close()
    return tuple((r[1], (r[2] or "TEXT").upper(), bool(r[3]), bool(r[5])) for r in rows)


@functools.cache
def event_columns() -> tuple[str, ...]:
    """``usage_events``' columns, ingest's order first (``rollup.Deltas`` indexes rows
    by it), then any column the schema has that ingest does not name yet."""
    names = [c[0] for c in sqlite_columns("usage_events")]
    return (*ingest.COLUMNS, *(n for n in names if n not in ingest.COLUMNS))


@functools.cache
def raw_columns() -> tuple[str, ...]:
    return tuple(c[0] for c in sqlite_columns("usage_raw_events"))


@functools.cache
def snapshot_columns() -> tuple[str, ...]:
    """``usage_limit_snapshots``' columns (a quota snapshot kept for the gauges)."""
    return tuple(c[0] for c in sqlite_columns("usage_limit_snapshots"))


def _column_ddl(table: str, keys: bool = True) -> list[str]:
    out = []
    for name, kind, notnull, pk in sqlite_columns(table):
        out.append(f"{name} {PG_TYPES.get(kind, 'TEXT')}"
                   f"{' NOT NULL' if notnull or pk else ''}"
                   f"{' PRIMARY KEY' if pk and keys else ''}")
    return out


def ddl() -> list[str]:
    """The statements that create a team store (idempotent; run under ``DDL_LOCK``)."""
    xid = f"{XID} xid8 NOT NULL DEFAULT pg_current_xact_id()"
    raw = ", ".join(_column_ddl("usage_raw_events"))
    events = ", ".join(_column_ddl("usage_events"))
    return [
        "CREATE TABLE IF NOT EXISTS tokentop_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS usage_raw_events ({raw}, {xid})",
        f"CREATE TABLE IF NOT EXISTS usage_events ({events},"
        f" {CHANNEL} TEXT NOT NULL DEFAULT '', {xid},"
        " CONSTRAINT usage_events_dedup_key_key UNIQUE (dedup_key))",
        # keyed by the event's dedup_key, not its event_id: two machines that saw one
        # snapshot event drew two event ids for it, and it is one snapshot
        "CREATE TABLE IF NOT EXISTS usage_limit_snapshots (dedup_key TEXT PRIMARY KEY,"
        f" {', '.join(_column_ddl('usage_limit_snapshots', keys=False))}, {xid})",
        f"CREATE INDEX IF NOT EXISTS usage_limit_snapshots_{XID}"
        f" ON usage_limit_snapshots ({XID})",
        f"CREATE INDEX IF NOT EXISTS usage_raw_events_{XID} ON usage_raw_events ({XID})",
        f"CREATE INDEX IF NOT EXISTS usage_events_{XID} ON usage_events ({XID})",
        # Every write stamps the row, whoever makes it (tokentop's upsert, an admin's
        # UPDATE): a pull must see it whatever statement changed it.
        f"CREATE OR REPLACE FUNCTION tokentop_stamp_xid() RETURNS trigger LANGUAGE plpgsql"
        f" AS $$ BEGIN NEW.{XID} := pg_current_xact_id(); RETURN NEW; END $$",
        *(f"DROP TRIGGER IF EXISTS {t}_stamp_xid ON {t}" for t in TABLES),
        *(f"CREATE TRIGGER {t}_stamp_xid BEFORE INSERT OR UPDATE ON {t}"
          " FOR EACH ROW EXECUTE FUNCTION tokentop_stamp_xid()" for t in TABLES),
        "INSERT INTO tokentop_meta (key, value) VALUES"
        f" ('{META_STORE_ID}', '{uuid.uuid4()}'), ('store_owner', 'tokentop')"
        " ON CONFLICT (key) DO NOTHING",
    ]


def additions(existing: dict[str, set[str]]) -> list[str]:
    """``ADD COLUMN`` for each column the SQLite schema has and a team store made by an
    older tokentop lacks (``existing``: table -> its column names). Only these: an
    ALTER takes the table's exclusive lock even when it changes nothing."""
    out = []
    for table in ("usage_raw_events", "usage_events"):
        have = existing.get(table, set())
        for name, kind, _notnull, _pk in sqlite_columns(table):
            if name not in have:  # nullable, as SQLite's ADD COLUMN adds it
                out.append(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {name}"
                           f" {PG_TYPES.get(kind, 'TEXT')}")
    return out


def stage_ddl() -> list[str]:
    """Per-session staging tables a push COPYs into before one INSERT ... SELECT."""
    return [
        "CREATE TEMP TABLE IF NOT EXISTS tokentop_stage_events"
        " (LIKE usage_events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
        "CREATE TEMP TABLE IF NOT EXISTS tokentop_stage_raw"
        " (LIKE usage_raw_events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
        "CREATE TEMP TABLE IF NOT EXISTS tokentop_stage_snapshots"
        " (LIKE usage_limit_snapshots INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
    ]
