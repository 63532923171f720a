"""Delete a scope of gridctl telemetry: the active files and their rotated siblings.

gridctl's ``Wipe(server, signal)``: an empty server or signal is a wildcard; what goes
is each matching ``<signal>.jsonl`` and its lumberjack backups (plain and ``.gz``),
and nothing else (unrelated files, other signals and servers, directories stay).
As in gridctl (pkg/telemetry/wipe.go, gridctl/gridctl@7cec407) every directory of a
stack is in scope, the ``__skills__`` skill-usage directory too, and a server is named
``stack/server`` or, as ``gridctl telemetry wipe --server`` takes it, bare (that
server in every stack).

It happens in two steps so a user confirms exactly what goes: ``plan`` lists the
files (an inventory of the scope), ``execute`` deletes that list. ``wipe`` does both.

Names come from users (the CLI's ``--server``, an HTTP-style API): a name that could
leave the root (``..``, a separator, an absolute path) is refused with a clear error
before anything is touched. Files are never opened, only unlinked, so a writer that is
appending keeps going: on POSIX its open descriptor survives the unlink, and a writer
that opens per append (or lumberjack at its next rotation) recreates the file, which
the metrics follower then reads from its start. One file that cannot be deleted is
reported and the rest are still deleted.

Symlinks: a server directory (or a stack, or a file) inside the root may be a symlink
to somewhere else, and unlinking ``<root>/s/x/metrics.jsonl`` through it deleted a file
outside the root while the prompt showed a path under it. Every file is resolved when
planned and again right before it is unlinked; one whose real place is outside the
root's real place is refused, named with where it leads, and never deleted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from tokentop.store.gridctl.inventory import (
    InventoryRecord,
    RootArg,
    Totals,
    as_layout,
    inventory,
    totals,
)
from tokentop.store.metrics.layout import SIGNALS, Layout


class WipeError(ValueError):
    """A scope that is refused before anything is deleted (the message says why)."""


def check_server(server: str) -> None:
    """``stack/server``, a bare ``server`` or empty; anything that could name a path
    outside the root raises."""
    if not server:
        return
    if "\x00" in server:
        raise WipeError(f"refusing server name {server!r}: it contains a NUL byte")
    if server.startswith(("/", "\\")) or (len(server) > 1 and server[1] == ":"):
        raise WipeError(f"refusing server name {server!r}: an absolute path, not STACK/SERVER")
    if "\\" in server:
        raise WipeError(f"refusing server name {server!r}: it contains a path separator '\\'")
    parts = server.split("/")
    if any(p in (".", "..") for p in parts):
        raise WipeError(f"refusing server name {server!r}: '..' or '.' would leave the "
                        "telemetry root")
    if len(parts) > 2 or not all(parts):
        raise WipeError(f"refusing server name {server!r}: expected STACK/SERVER or "
                        "SERVER (at most one '/', no other separators)")


def check_signal(signal: str) -> None:
    """Empty or one of logs, metrics, traces."""
    if signal and signal not in SIGNALS:
        raise WipeError(f"unknown signal {signal!r}: expected one of {', '.join(SIGNALS)}")


@dataclass(frozen=True)
class FileError:
    path: Path
    message: str


@dataclass(frozen=True)
class WipePlan:
    """What a wipe of (server, signal) would delete, as listed when it was planned."""

    layout: Layout
    server: str
    signal: str
    records: list[InventoryRecord]
    # files of the scope whose real place is outside the root (through a symlink):
    # listed to the user, never deleted
    refused: list[FileError] = field(default_factory=list)

    @property
    def paths(self) -> list[Path]:
        return [f.path for r in self.records for f in r.files]

    @property
    def totals(self) -> Totals:
        return totals(self.records)

    @property
    def servers(self) -> list[str]:
        return sorted({r.server for r in self.records})

    @property
    def signals(self) -> list[str]:
        present = {r.signal for r in self.records}
        return [s for s in SIGNALS if s in present]


@dataclass
class WipeReport:
    """What a wipe did: files deleted (and their bytes), files it could not delete."""

    deleted: list[Path] = field(default_factory=list)
    freed_bytes: int = 0
    errors: list[FileError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def plan(root: RootArg = None, server: str = "", signal: str = "") -> WipePlan:
    """List the files a wipe of the scope deletes. Raises ``WipeError`` for a bad name.

    Servers are looked up in the root's listing, never built from the name, so even
    a name that passed the checks cannot point anywhere else.
    """
    check_server(server)
    check_signal(signal)
    layout = as_layout(root)
    real_root = os.path.realpath(layout.path)
    records: list[InventoryRecord] = []
    refused: list[FileError] = []
    unreadable: list[Path] = []
    for record in inventory(layout, server, unreadable):
        if signal and record.signal != signal:
            continue
        inside = []
        for info in record.files:
            outside = _outside(info.path, real_root)
            if outside is None:
                inside.append(info)
            else:
                refused.append(FileError(info.path, outside))
        if inside:
            records.append(replace(record, files=tuple(inside)))
    refused += [FileError(d, "cannot read this directory: permission denied")
                for d in unreadable]
    return WipePlan(layout, server, signal, records, refused)


def _outside(path: Path, real_root: str) -> str | None:
    """Why ``path`` must not be deleted (its real place is outside the root, through a
    symlink: the directories leading to it or the file itself), or None."""
    real = os.path.realpath(path)
    if real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep):
        return None
    return f"refused: a symlink leads outside the telemetry root (to {real})"


def _unlink(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        # unlink(2) says EISDIR on Linux but EPERM on macOS: say what it is.
        raise IsADirectoryError(21, "is a directory, not a telemetry file", str(path))
    os.unlink(path)


def execute(planned: WipePlan) -> WipeReport:
    """Delete the planned files; report each one that could not be deleted.

    A file already gone is not an error. A plain backup that lumberjack compressed in
    the meantime (``x.jsonl`` became ``x.jsonl.gz``) is the same backup: its ``.gz``
    goes instead.
    """
    report = WipeReport()
    listed = set(planned.paths)
    real_root = os.path.realpath(planned.layout.path)
    for record in planned.records:
        for info in record.files:
            path, size = info.path, info.size
            outside = _outside(path, real_root)  # again: a directory may have been
            if outside is not None:  # swapped for a symlink since it was planned
                report.errors.append(FileError(path, outside))
                continue
            try:
                _unlink(path)
            except FileNotFoundError:
                gz = path.with_name(path.name + ".gz")
                if path == record.path or path.name.endswith(".gz") or gz in listed:
                    continue
                outside = _outside(gz, real_root)
                if outside is not None:
                    report.errors.append(FileError(gz, outside))
                    continue
                try:
                    size = os.lstat(gz).st_size
                    _unlink(gz)
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    report.errors.append(FileError(gz, exc.strerror or str(exc)))
                    continue
                path = gz
            except OSError as exc:
                report.errors.append(FileError(path, exc.strerror or str(exc)))
                continue
            report.deleted.append(path)
            report.freed_bytes += size
    return report


def wipe(root: RootArg = None, server: str = "", signal: str = "") -> WipeReport:
    """gridctl's ``Wipe``: empty ``server`` or ``signal`` means all. See ``plan``."""
    return execute(plan(root, server, signal))
