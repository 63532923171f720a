"""What the cache stored or changed since its last push: filled by triggers.

Triggers, not a hook in ingest: every collector, the spool and any later writer of the
cache go through ``usage_events``, and a trigger sees each insert and update whatever
code path made it, in the same transaction (a crash loses neither the row nor its
mark). The cache is tokentop's own file (``location.cache_path``), never a user's store.
"""

from __future__ import annotations

import sqlite3

DDL = """
CREATE TABLE IF NOT EXISTS tokentop_team_outbox (dedup_key TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS tokentop_team_outbox_insert AFTER INSERT ON usage_events
BEGIN INSERT OR IGNORE INTO tokentop_team_outbox VALUES (NEW.dedup_key); END;
CREATE TRIGGER IF NOT EXISTS tokentop_team_outbox_update AFTER UPDATE ON usage_events
BEGIN INSERT OR IGNORE INTO tokentop_team_outbox VALUES (NEW.dedup_key); END;
"""


def attach(conn: sqlite3.Connection) -> None:
    """Install the outbox on a cache (idempotent; a no-op write when present)."""
    have = {r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE name LIKE 'tokentop_team_outbox%'")}
    if len(have) < 3:
        conn.executescript(DDL)


def pending(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM tokentop_team_outbox").fetchone()[0])
