"""One line for a SQLite error, naming the file: shared by every store tokentop opens.

SQLite's own messages ("file is not a database", "database is locked") do not say
which file; a user with three databases needs to know which one to look at.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


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
        return f"disk full: {path} (nothing of the last write was stored; the rest is intact)"
    if "unable to open" in low:
        return f"cannot open {noun}: {path}"
    return f"{path}: {text}"
