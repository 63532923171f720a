"""The status line's last snapshot, kept a few seconds in tokentop's state directory.

Why: Claude Code runs the status line command on every message (at most every 300 ms)
and tmux on every status refresh. Reading the rollup takes ~10 ms (``glance_fast``,
priced from the compiled price cache, ``pricing_cache``); within a few seconds of the
last call, while the store has not changed, the same snapshot is served from one small
JSON file instead (ccusage's statusline keeps its output the same way,
30 s by default). What may change within those seconds without the store changing is
only the sliding edge of the last hour's burn rate: the time left in the block is
worked out when the line is printed, and the quota and session cost that Claude Code
sends come from stdin, never from the file.

The key says which store (its path, and the size and modification time of the file
and its WAL, which every ingest changes), the zone and the local date (a new day is a
new "today"). Only this file is written, atomically; failing to write it changes
nothing but the next call's speed.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from os import PathLike

    StrPath = str | PathLike[str]

NAME = "statusline.json"
VERSION = 1
DEFAULT_SECONDS = 10.0


def store_marks(db: StrPath) -> list[list[int] | None]:
    """Size and mtime (ns) of the store and its WAL: any write moves one of them."""
    marks: list[list[int] | None] = []
    for path in (os.fspath(db), f"{os.fspath(db)}-wal"):
        try:
            st = os.stat(path)
        except OSError:
            marks.append(None)
            continue
        marks.append([st.st_size, st.st_mtime_ns])
    return marks


def make_key(db: StrPath, tz_name: str, day: str) -> dict[str, Any]:
    return {"v": VERSION, "store": os.fspath(db), "marks": store_marks(db), "tz": tz_name,
            "day": day}


def load(path: StrPath, key: dict[str, Any], now: float, max_age: float) -> dict[str, Any] | None:
    """The kept snapshot if it is for ``key`` and younger than ``max_age`` seconds."""
    if max_age <= 0:
        return None
    try:
        with open(path, "rb") as fh:
            doc = json.loads(fh.read())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("key") != key:
        return None
    at = doc.get("at")
    if not isinstance(at, int | float) or not 0 <= now - at <= max_age:
        return None
    snap = doc.get("snapshot")
    return snap if isinstance(snap, dict) else None


def save(path: StrPath, key: dict[str, Any], now: float, snap: dict[str, Any]) -> None:
    """Keep ``snap`` (write to a temporary name, then rename: a reader never sees half
    a file). Errors are ignored: the cache is only a shortcut."""
    head, name = os.path.split(os.fspath(path))
    tmp = os.path.join(head, f".{name}.{os.getpid()}.tmp")
    data = json.dumps({"key": key, "at": now, "snapshot": snap}, separators=(",", ":"))
    try:
        # 0600 like the store it summarises: costs are the user's business
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
