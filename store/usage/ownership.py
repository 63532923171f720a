"""Whose database is this, and how tokentop may open it.

tokentop writes only its own store, marked when tokentop creates or migrates it
(``schema.OWNER_KEY`` in ``tokentop_meta``); openusage's ``telemetry.db`` and any other
SQLite file are only read, through :func:`read_only_uri`, which leaves nothing behind.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from tokentop.store.sqlite_errors import describe
from tokentop.store.tail.regular import open_binary
from tokentop.store.usage import schema

# Tables openusage's Store.Init creates and tokentop never does
# (janekbaraniewski/openusage internal/telemetry/store.go).
OPENUSAGE_ONLY_TABLES = frozenset({"usage_reconciliation_windows", "balance_observations",
                                   "usage_rollup_daily", "daemon_meta"})


class UnreadableStore(Exception):
    """The file cannot be read as SQLite (one line, ready for the user)."""


def nonempty(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def is_own_store(path: Path) -> bool:
    """Is the database at ``path`` tokentop's own, the only kind it writes?

    Yes when tokentop's owner mark is in ``tokentop_meta``, or for a store an older
    tokentop made before the mark: it has ``collector_offsets`` and none of openusage's
    own tables. openusage's ``telemetry.db`` (even one an older tokentop wrongly
    collected into) and any other SQLite file are not; a missing, empty or unreadable
    file is not either.
    """
    if not nonempty(path):
        return False
    try:
        return owned(path)
    except UnreadableStore:
        return False


def owned(path: Path) -> bool:
    """:func:`is_own_store` for an existing file; UnreadableStore if it is not SQLite,
    corrupt or locked."""
    try:
        conn = sqlite3.connect(_probe_uri(path), uri=True)
        try:
            if schema.is_owned(conn):
                return True
            names = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise UnreadableStore(describe(exc, path)) from None
    return "collector_offsets" in names and not names & OPENUSAGE_ONLY_TABLES


def read_only_uri(path: Path) -> str:
    """The URI that reads ``path`` and, unless it is tokentop's own, writes nothing
    next to it.

    ``mode=ro`` alone on a WAL database (openusage's) whose ``-wal`` is absent, i.e. no
    connection has it open, creates ``-wal`` and ``-shm`` and, being read-only, cannot
    remove them on close. Then nothing is writing the file, so a foreign one is opened
    ``immutable`` (no locks, no side files). Trade-off: a writer that starts later is not
    seen until the store is reopened. While a writer runs (``-wal`` present), plain
    ``mode=ro`` shares its WAL and sees its commits. tokentop's own store is always
    plain ``mode=ro``: its dashboard must see the collector's commits.
    """
    resolved = path.resolve()
    uri = f"file:{quote(str(resolved))}?mode=ro"
    if _quiet_wal(resolved) and not is_own_store(resolved):
        uri += "&immutable=1"
    return uri


def _probe_uri(path: Path) -> str:
    resolved = path.resolve()
    uri = f"file:{quote(str(resolved))}?mode=ro"
    return uri + "&immutable=1" if _quiet_wal(resolved) else uri


def _quiet_wal(path: Path) -> bool:
    """A WAL database (header bytes 18 and 19 are 2) that no connection has open."""
    if Path(f"{path}-wal").exists():
        return False
    try:
        with open_binary(path) as f:
            head = f.read(20)
    except OSError:
        return False
    return len(head) == 20 and head[18] == 2 and head[19] == 2
