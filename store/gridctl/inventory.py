"""What gridctl keeps on disk: one record per (server, signal) that has files.

gridctl's ``Inventory`` answers "how much telemetry do I hold, and since when?" so a
user can decide what to wipe. A record aggregates the active ``<signal>.jsonl`` and
every rotated sibling lumberjack left (plain and ``.gz``, both while compressing):
bytes on disk, file count, and the oldest and newest modification times. Files are
found with ``tokentop.store.tail.family`` (the metrics reader's own discovery), so the
inventory, the wipe and the replay never disagree on which files belong to a signal.

Each record also carries its files (path, size, mtime): the wipe confirmation lists
exactly what will be deleted, and the wipe deletes exactly that list.

Every directory of a stack is walked, ``__skills__`` included: gridctl's ``Inventory``
(pkg/telemetry/inventory.go, gridctl/gridctl@7cec407) lists every subdirectory of the
stack with signal files, and its ``Wipe`` deletes them, so the skill-usage file
(``<stack>/__skills__/metrics.jsonl``, ``PromptUsageNamespace`` in
pkg/telemetry/metrics.go) takes disk space here too. It is not a server for the charts
(``Layout.server_dirs`` leaves it out); here it is one more directory of files.

Stacks and servers sort as gridctl sorts them: stack names first (``sort.Strings``),
then server names (byte order), then logs, metrics, traces. ``to_json`` is one row of
``gridctl telemetry status --json`` (cmd/gridctl/telemetry.go ``statusRow``).

A file that vanishes between listing and ``stat`` (lumberjack removing an old
backup, a wipe) is simply not counted; a missing root is an empty inventory.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tokentop.store.metrics.layout import SIGNALS, SKILLS_DIR, Layout
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
    def stack(self) -> str:
        """The stack directory's name (``server`` is ``stack/server``)."""
        return self.server.split("/", 1)[0]

    @property
    def bare_server(self) -> str:
        """The server directory's name, as gridctl's record has it (``github``)."""
        return self.server.split("/", 1)[-1]

    @property
    def is_skills(self) -> bool:
        """gridctl's skill-usage directory (``__skills__``): files, but not a server."""
        return self.bare_server == SKILLS_DIR

    @property
    def file_count(self) -> int:
        return len(self.files)

    def to_json(self) -> dict[str, object]:
        """One row of ``gridctl telemetry status --json``: its ``statusRow``, key for key.

        cmd/gridctl/telemetry.go flattens each stack's ``InventoryRecord``s into
        ``{stack, server, signal, path, sizeBytes, fileCount, oldest, newest}`` with the
        bare server name and the times as ``formatInventoryTime`` writes them (local
        ``2006-01-02 15:04``): a script written for gridctl's output reads this as is.
        """
        return {
            "stack": self.stack,
            "server": self.bare_server,
            "signal": self.signal,
            "path": str(self.path),
            "sizeBytes": self.size_bytes,
            "fileCount": self.file_count,
            "oldest": inventory_time(self.oldest),
            "newest": inventory_time(self.newest),
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


def inventory_time(ts: float) -> str:
    """gridctl's ``formatInventoryTime``: the local ``YYYY-MM-DD HH:MM`` of a mtime.

    Go's ``Time.Format`` truncates (no rounding), as ``strftime`` does. gridctl writes
    "—" for Go's zero time, which a file's modification time never is.
    """
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def as_layout(root: RootArg) -> Layout:
    """A ``Layout`` as given, else the user's DIR resolved the way the metrics reader does."""
    return root if isinstance(root, Layout) else Layout.resolve(root)


def _subdirs(path: Path) -> list[tuple[str, Path]]:
    """Subdirectories by name in byte order (Go's ``sort.Strings``, ``os.ReadDir``)."""
    try:
        found = [(e.name, Path(e.path)) for e in os.scandir(path) if e.is_dir()]
    except OSError:
        return []
    return sorted(found, key=lambda item: os.fsencode(item[0]))


def server_dirs(layout: Layout) -> list[tuple[str, Path]]:
    """Every ``stack/server`` directory gridctl's ``Inventory`` walks, in its order.

    Unlike ``Layout.server_dirs`` (the servers of the charts), ``__skills__`` is one of
    them: gridctl lists and wipes its files.
    """
    stacks = [(layout.stack, layout.path)] if layout.stack else _subdirs(layout.path)
    return [(f"{stack}/{server}", server_dir)
            for stack, stack_dir in stacks for server, server_dir in _subdirs(stack_dir)]


def matches(name: str, server: str) -> bool:
    """Whether ``stack/server`` ``name`` is in the scope ``server``: empty is every
    server, ``stack/server`` that one, a bare name that server in every stack (gridctl's
    ``--server``, which takes a bare name across the stacks it walks)."""
    if not server:
        return True
    if "/" in server:
        return name == server
    return name.split("/", 1)[-1] == server


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


def readable(directory: Path) -> bool:
    """Whether this user may list ``directory`` and reach its files (a server directory
    another user owns, mode 0700, raised PermissionError from deep inside a listing)."""
    return os.access(directory, os.R_OK | os.X_OK)


def iter_inventory(root: RootArg = None, server: str = "",
                   unreadable: list[Path] | None = None) -> Iterator[InventoryRecord]:
    """``inventory``, one record at a time, in order: a screen can show the first rows
    of a large tree while the rest is still being listed. A server directory this user
    cannot read is skipped and appended to ``unreadable`` (to be named, not hidden)."""
    layout = as_layout(root)
    for name, server_dir in server_dirs(layout):
        if not matches(name, server):
            continue
        if not readable(server_dir):
            if unreadable is not None:
                unreadable.append(server_dir)
            continue
        for signal in SIGNALS:
            record = signal_record(name, server_dir, signal)
            if record is not None:
                yield record


def inventory(root: RootArg = None, server: str = "",
              unreadable: list[Path] | None = None) -> list[InventoryRecord]:
    """Every (server, signal) with files under ``root``; only ``server``'s when given.

    ``root`` is the telemetry root, one stack directory, or a resolved ``Layout``
    (None: the default root). Servers are named ``stack/server``, ``__skills__``
    included (``is_skills``); ``server`` is ``stack/server`` or a bare name (every
    stack). Sorted by stack, server, then logs, metrics, traces.
    """
    return list(iter_inventory(root, server, unreadable))


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
        for name, server_dir in server_dirs(layout):
            if not readable(server_dir):
                continue  # nothing of it can be shown or wiped
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
