"""Follow one server's metrics file and its rotations, reading every byte once.

State is a cursor on the active file (its offset and first bytes) and the set of
rotation stamps already consumed. lumberjack renames the active file to
``metrics-<stamp>.jsonl`` (same inode), then compresses it to ``.gz`` and removes the
plain file. So, on each scan:

- a new rotation that starts with the bytes our cursor consumed is our old active
  file: finish it from the cursor's offset before touching the new active file; if
  it is already compressed, its ``.gz`` decompresses to the same bytes, so it is read
  from the same offset, decompressed. (Inode numbers are no proof: lumberjack deletes
  backups, and the next file created may get the freed number.)
- any other new rotation is read whole; a ``.gz`` of a consumed stamp is skipped;
- an active file that shrank, or whose first bytes changed (wiped and recreated,
  possibly on a reused inode), is read again from the start.

Files that vanish between listing and opening are simply not there this time.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tokentop.store.metrics.layout import Rotation, signal_files
from tokentop.store.metrics.reader import HEAD_BYTES, LineReader, read_gz_head
from tokentop.store.metrics.replay import MetricsState

Progress = Callable[[int], None]


@dataclass
class Cursor:
    ident: tuple[int, int]
    offset: int
    head: bytes


def _is_same(path: Path, cursor: Cursor) -> bool:
    """Does ``path`` hold the bytes the cursor has consumed (plain, or gzip of them)?"""
    try:
        if path.name.endswith(".gz"):
            return read_gz_head(path, len(cursor.head)) == cursor.head
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if st.st_size < cursor.offset:
                return False
            return os.pread(fh.fileno(), len(cursor.head), 0) == cursor.head
    except OSError:
        return False


class SignalTail:
    """Incremental reader of one server's ``<signal>.jsonl`` family (metrics by default).

    ``state`` is where lines go: anything with ``apply(server, lines)``,
    ``apply_tail(server, tail)``, a ``lock`` and ``ReplayStats``-like ``stats`` (the logs
    and traces readers pass their own record sinks).
    """

    def __init__(
        self, server: str, server_dir: Path, state: MetricsState, signal: str = "metrics"
    ) -> None:
        self.server = server
        self.dir = server_dir
        self.state = state
        self.signal = signal
        self.active: Cursor | None = None
        self.consumed: set[str] = set()
        self.seen_files: set[tuple[int, int]] = set()

    def pending_bytes(self) -> int:
        """On-disk bytes the next scan would read at most (for replay progress)."""
        files = signal_files(self.dir, self.signal)
        total = 0
        for rot in files.rotations:
            if rot.stamp not in self.consumed:
                total += _size(rot.preferred)
        total += max(0, _size(files.active) - (self.active.offset if self.active else 0))
        return total

    def scan(self, progress: Progress | None = None) -> int:
        """Read whatever is new. Returns the number of lines consumed."""
        files = signal_files(self.dir, self.signal)
        lines = 0
        old = self.active
        # Inode numbers are reused as soon as lumberjack deletes a compressed backup, so
        # "same file" also needs the same first bytes and no shrinking.
        old_moved = old is not None and not _is_same(files.active, old)
        new_rots = [r for r in files.rotations if r.stamp not in self.consumed]
        for rot in new_rots:
            offset = 0
            if old_moved and old is not None and old.offset and _is_same(rot.preferred, old):
                offset, old = old.offset, None
            lines += self._read_finished(rot, offset, progress)
        if old_moved and old is not None and old.offset:
            # Not found among the rotations: truncated, wiped or replaced.
            with self.state.lock:
                self.state.stats.truncations += 1
        existing = {r.stamp for r in files.rotations}
        self.consumed &= existing
        self.consumed |= {r.stamp for r in new_rots}
        lines += self._read_active(files.active, None if old_moved else self.active, progress)
        return lines

    def _read_finished(self, rot: Rotation, offset: int, progress: Progress | None) -> int:
        """A rotated file no longer grows: its tail, if any, is its last line."""
        path = rot.preferred
        reader = LineReader(path, offset, progress)
        lines = 0
        try:
            for batch in reader.batches():
                lines += self.state.apply(self.server, batch)
        except (FileNotFoundError, PermissionError, IsADirectoryError):
            if rot.plain is not None and rot.gz is not None and path == rot.plain:
                return self._read_finished(Rotation(rot.stamp, None, rot.gz), offset, progress)
            return lines
        except OSError:
            return lines
        self._count_file(reader.result.ident)
        if reader.result.truncated:
            with self.state.lock:
                self.state.stats.truncated_gz += 1
        if reader.result.tail:
            self.state.apply_tail(self.server, reader.result.tail)
            lines += 1
        return lines

    def _read_active(self, path: Path, cursor: Cursor | None, progress: Progress | None) -> int:
        reader = LineReader(path, cursor.offset if cursor else 0, progress)
        lines = 0
        try:
            for batch in reader.batches():
                lines += self.state.apply(self.server, batch)
        except OSError:
            self.active = None
            return lines
        res = reader.result
        self._count_file(res.ident)
        self.active = Cursor(res.ident, res.end, res.head[: min(HEAD_BYTES, res.end)])
        return lines

    def _count_file(self, ident: tuple[int, int]) -> None:
        if ident not in self.seen_files:
            self.seen_files.add(ident)
            with self.state.lock:
                self.state.stats.files += 1


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
