"""What gridctl keeps on disk: one record per (server, signal) that has files.

gridctl's ``Inventory`` answers "how much telemetry do I hold, and since when?" so a
user can decide what to wipe. A record aggregates the active ``<signal>.jsonl`` and
every rotated sibling lumberjack left (plain and ``.gz``, both while compressing):
bytes on disk, file count, and the oldest and newest modification times. Files are
found with ``tokentop.store.tail.family`` (the metrics reader's own discovery), so the
inventory, the wipe and the replay never disagree on which files belong to a signal.

Each record also carries its files (path, size, mtime): the wipe confirmation lists
exactly what will be deleted, and the wipe deletes exactly that list.

A file that vanishes between listing and ``stat`` (lumberjack removing an old
backup, a wipe) is simply not counted; a missing root is an empty inventory.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tokentop.store.metrics.layout import SIGNALS, Layout
from tokentop.store.tail.family import list_family

RootArg = Layout | str | os.PathLike[str] | None


@dataclass(frozen=True)
class FileInfo:
    """One file of a signal: where it is, its size and its modification time (epoch s)."""

    path: Path
    size: int
    mtime: float


@dataclass(frozen=True)
class InventoryRecord:
    """The on-disk footprint of one (server, signal) pair; never empty of files.

    ``path`` is the active file's path (``<server dir>/<signal>.jsonl``), whether or not
    it exists right now (only rotated siblings may be left), as in gridctl's record.
    """

    server: str
    signal: str
    path: Path
    files: tuple[FileInfo, ...]
    # Sums over ``files``, computed once (a table of hundreds of rows reads them often).
    size_bytes: int = field(init=False)
    oldest: float = field(init=False)
    newest: float = field(init=False)

    def __post_init__(self) -> None:
        if not self.files:
            raise ValueError("an inventory record has at least one file")
        mtimes = [f.mtime for f in self.files]
        object.__setattr__(self, "size_bytes", sum(f.size for f in self.files))
        object.__setattr__(self, "oldest", min(mtimes))
        object.__setattr__(self, "newest", max(mtimes))

    @property
    def file_count(self) -> int:
        return len(self.files)

    @property
    def oldest_time(self) -> datetime:
        return datetime.fromtimestamp(self.oldest, UTC)

    @property
    def newest_time(self) -> datetime:
        return datetime.fromtimestamp(self.newest, UTC)

    def to_json(self) -> dict[str, object]:
        """gridctl's ``InventoryRecord`` JSON shape (camelCase keys, RFC 3339 UTC times)."""
        return {
            "server": self.server,
            "signal": self.signal,
            "path": str(self.path),
            "sizeBytes": self.size_bytes,
            "oldestTime": rfc3339(self.oldest_time),
            "newestTime": rfc3339(self.newest_time),
            "fileCount": self.file_count,
        }


@dataclass(frozen=True)
class Totals:
    """Sums over records: what a whole table (or a wipe) covers."""

    servers: int
    records: int
    files: int
    size_bytes: int
    oldest: float | None
    newest: float | None


def rfc3339(dt: datetime) -> str:
    """``2026-05-05T12:01:00.48213Z``: UTC with ``Z``, fraction only when there is one."""
    text = dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        text += f".{dt.microsecond:06d}".rstrip("0")
    return text + "Z"


def as_layout(root: RootArg) -> Layout:
    """A ``Layout`` as given, else the user's DIR resolved the way the metrics reader does."""
    return root if isinstance(root, Layout) else Layout.resolve(root)


def _file_info(path: Path) -> FileInfo | None:
    """``lstat`` a listed file: gone or not a regular file means it does not count."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return FileInfo(path, st.st_size, st.st_mtime)


def signal_record(server: str, server_dir: Path, signal: str) -> InventoryRecord | None:
    """The record of one (server, signal), or None when it has no files."""
    found = list_family(server_dir, signal)
    files = tuple(info for p in found.all_paths() if (info := _file_info(p)) is not None)
    if not files:
        return None
    return InventoryRecord(server, signal, found.active, files)


def iter_inventory(root: RootArg = None, server: str = "") -> Iterator[InventoryRecord]:
    """``inventory``, one record at a time, in order: a screen can show the first rows
    of a large tree while the rest is still being listed."""
    layout = as_layout(root)
    for name, server_dir in sorted(layout.server_dirs().items()):
        if server and name != server:
            continue
        for signal in SIGNALS:
            record = signal_record(name, server_dir, signal)
            if record is not None:
                yield record


def inventory(root: RootArg = None, server: str = "") -> list[InventoryRecord]:
    """Every (server, signal) with files under ``root``; only ``server``'s when given.

    ``root`` is the telemetry root, one stack directory, or a resolved ``Layout``
    (None: the default root). Servers are named ``stack/server``; ``__skills__`` is not
    one. Sorted by server, then logs, metrics, traces.
    """
    return list(iter_inventory(root, server))


class Rescanner:
    """``iter_inventory`` for a live view: rescans reuse what did not change.

    A screen rescans every second. Built afresh, thousands of ``FileInfo`` and records
    would live a second each, long enough to be promoted to the GC's oldest generation
    and to trigger its full collections (100+ ms pauses on a large heap). Here a file
    whose size and mtime did not change keeps its ``FileInfo``, and a (server, signal)
    whose files did not change keeps its record: a quiet tree allocates nothing that
    survives a rescan, and unchanged records compare by identity.
    """

    def __init__(self) -> None:
        self._files: dict[Path, FileInfo] = {}
        self._records: dict[tuple[str, str], InventoryRecord] = {}

    def scan(self, root: RootArg = None) -> Iterator[InventoryRecord]:
        """The inventory, in order; the cache moves on when the iteration completes."""
        layout = as_layout(root)
        files: dict[Path, FileInfo] = {}
        records: dict[tuple[str, str], InventoryRecord] = {}
        for name, server_dir in sorted(layout.server_dirs().items()):
            for signal in SIGNALS:
                found = list_family(server_dir, signal)
                infos = []
                for path in found.all_paths():
                    info = self._file(path)
                    if info is not None:
                        files[info.path] = info
                        infos.append(info)
                if not infos:
                    continue
                key = (name, signal)
                record = self._records.get(key)
                if record is None or len(record.files) != len(infos) or any(
                        a is not b for a, b in zip(record.files, infos, strict=True)):
                    record = InventoryRecord(name, signal, found.active, tuple(infos))
                records[key] = record
                yield record
        self._files = files
        self._records = records

    def _file(self, path: Path) -> FileInfo | None:
        try:
            st = os.lstat(path)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        old = self._files.get(path)
        if old is not None and old.size == st.st_size and old.mtime == st.st_mtime:
            return old
        return FileInfo(path, st.st_size, st.st_mtime)


def totals(records: Iterable[InventoryRecord]) -> Totals:
    """Servers, records, files, bytes and the time span covered by ``records``."""
    recs = list(records)
    return Totals(
        servers=len({r.server for r in recs}),
        records=len(recs),
        files=sum(r.file_count for r in recs),
        size_bytes=sum(r.size_bytes for r in recs),
        oldest=min((r.oldest for r in recs), default=None),
        newest=max((r.newest for r in recs), default=None),
    )
