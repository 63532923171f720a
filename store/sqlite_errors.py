"""One line for a SQLite error, naming the file: shared by every store tokentop opens.

SQLite's own messages ("file is not a database", "database is locked") do not say
which file; a user with three databases needs to know which one to look at.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

# Free bytes under which an I/O error is read as a full disk: SQLite names ENOSPC
# "database or disk is full" only where it writes pages; where it sizes its -shm or
# -wal file (opening a store on a full disk) the same cause is a "disk I/O error".
FULL_BELOW = 1 << 20
DISK_FULL = "disk full: {path} (nothing of the last write was stored; the rest is intact)"


def describe(exc: sqlite3.Error, path: Path, noun: str = "database") -> str:
    """``exc`` as one line about ``path``; ``noun`` names what the file is to the user."""
    text = str(exc)
    low = text.lower()
    if "not a database" in low:
        return f"not a SQLite database: {path}"
    if "malformed" in low or "corrupt" in low:
        return f"{noun} is corrupt: {path} ({text})"
    if "locked" in low or "busy" in low:
        return f"{noun} is locked by another process: {path}"
    if "readonly" in low or "read-only" in low:
        return f"{noun} is read-only: {path}"
    if "disk is full" in low or "disk full" in low:
        return DISK_FULL.format(path=path)
    if getattr(exc, "sqlite_errorname", "").startswith("SQLITE_IOERR") and _no_room(path):
        return DISK_FULL.format(path=path)
    if "unable to open" in low:
        return f"cannot open {noun}: {path}"
    return f"{path}: {text}"


def _no_room(path: Path) -> bool:
    """Is the filesystem holding ``path`` (nearly) full for this user?"""
    try:
        st = os.statvfs(path.parent)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < FULL_BELOW
