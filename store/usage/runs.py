"""When ``tokentop ingest`` last finished, kept in the store it filled.

Why in the store (``tokentop_meta``) and not a file beside it: the time belongs to the
store that was filled (``--store`` names another), it is written in the same database
tokentop already owns, and ``tokentop collect --status`` reads it read-only, as the
reports read. Only tokentop's own store is ever written (the ingest command opens
nothing else read-write).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

LAST_INGEST_KEY = "last_ingest"


def record_ingest(conn: sqlite3.Connection, at: datetime, summary: dict[str, Any]) -> None:
    """Note that an ingest finished at ``at`` with these counts (one small upsert)."""
    doc = {"at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), **summary}
    conn.execute("INSERT OR REPLACE INTO tokentop_meta (key, value) VALUES (?, ?)",
                 (LAST_INGEST_KEY, json.dumps(doc, separators=(",", ":"))))


def last_ingest(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The last recorded ingest (``at`` parsed to an aware time), or None: never, an
    older store, or a foreign one."""
    try:
        row = conn.execute("SELECT value FROM tokentop_meta WHERE key = ?",
                           (LAST_INGEST_KEY,)).fetchone()
    except sqlite3.Error:
        return None
    if row is None:
        return None
    try:
        doc = json.loads(row[0])
        doc["at"] = datetime.strptime(doc["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (ValueError, KeyError, TypeError):
        return None
    return doc if isinstance(doc, dict) else None
