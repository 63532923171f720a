"""Follow one file family and its rotations, reading every byte once.

State is a cursor on the active file (its offset and first bytes) and the set of
rotation stamps already consumed. lumberjack renames the active file to
``<name>-<stamp>.jsonl`` (same inode), then compresses it to ``.gz`` and removes the
plain file. So, on each scan:

- a new rotation that starts with the bytes our cursor consumed is our old active
  file: finish it from the cursor's offset before touching the new active file; if
  it is already compressed, its ``.gz`` decompresses to the same bytes, so it is read
  from the same offset, decompressed. (Inode numbers are no proof: lumberjack deletes
  backups, and the next file created may get the freed number.)
- any other new rotation is read whole; a ``.gz`` of a consumed stamp is skipped;
- an active file that shrank, or whose first bytes changed (wiped and recreated,
  possibly on a reused inode), is read again from the start.

Files that vanish between listing and opening are simply not there this time. Lines go
to a ``Sink``: the gridctl metrics state, or the logs and traces record sinks.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from tokentop.store.tail.cursor import Cursor
from tokentop.store.tail.family import Rotation, list_family
from tokentop.store.tail.reader import HEAD_BYTES, LineReader

Progress = Callable[[int], None]


class TailStats(Protocol):
    """The counters a ``FamilyTail`` keeps up to date in its sink."""

    files: int  # distinct files read
    truncations: int  # active files found shrunk, wiped or replaced
    truncated_gz: int  # gzip streams that ended before their end marker
    malformed: int  # lines that could not be read (here: longer than MAX_LINE)
    unreadable: set[str]  # files this user may not read (another user's, mode 0600)


class Sink(Protocol):
    """Where a ``FamilyTail`` hands complete lines (``key`` says whose they are)."""

    lock: threading.Lock
    stats: TailStats

    def apply(self, key: str, lines: list[bytes]) -> int: ...

    def apply_tail(self, key: str, tail: bytes) -> None: ...


class FamilyTail:
    """Incremental reader of the family ``name`` in ``directory``, feeding ``sink``.

    Lines are handed on as ``sink.apply(key, lines)``: ``key`` names the family for the
    sink (gridctl passes ``stack/server``).
    """

    def __init__(self, key: str, directory: Path, sink: Sink, name: str) -> None:
        self.key = key
        self.dir = directory
        self.sink = sink
        self.name = name
        self.active: Cursor | None = None
        self.consumed: set[str] = set()
        self.seen_files: set[tuple[int, int]] = set()
        self._last_active: bytes | None = None  # the active file's newest complete line

    def pending_bytes(self) -> int:
        """On-disk bytes the next scan would read at most (for replay progress)."""
        files = list_family(self.dir, self.name)
        total = 0
        for rot in files.rotations:
            if rot.stamp not in self.consumed:
                total += _size(rot.preferred)
        total += max(0, _size(files.active) - (self.active.offset if self.active else 0))
        return total

    def scan(self, progress: Progress | None = None) -> int:
        """Read whatever is new. Returns the number of lines consumed."""
        files = list_family(self.dir, self.name)
        lines = 0
        old = self.active
        # Inode numbers are reused as soon as lumberjack deletes a compressed backup, so
        # "same file" also needs the same first bytes and no shrinking.
        old_moved = old is not None and not old.matches(files.active)
        new_rots = [r for r in files.rotations if r.stamp not in self.consumed]
        for rot in new_rots:
            offset = 0
            if old_moved and old is not None and old.offset and old.matches(rot.preferred):
                offset, old = old.offset, None
            lines += self._read_finished(rot, offset, progress)
        if old_moved and old is not None and old.offset:
            # Not found among the rotations: truncated, wiped or replaced.
            with self.sink.lock:
                self.sink.stats.truncations += 1
        existing = {r.stamp for r in files.rotations}
        self.consumed &= existing
        self.consumed |= {r.stamp for r in new_rots}
        fresh = self._read_active(files.active, None if old_moved else self.active, progress)
        lines += fresh
        late = bool(new_rots) and not old_moved and old is not None and old.offset > 0
        if late and not fresh and self._last_active is not None:
            # A rotation older than the active file we already read (it was renamed
            # between a listing and an open): its lines came after the active's in this
            # pass, but the active's last line is still the newest state.
            restore = getattr(self.sink, "restore_last", None)
            if restore is not None:
                restore(self.key, self._last_active)
        return lines

    def settled(self) -> bool:
        """Whether every rotation now on disk was read. A rotation that happened between
        a scan's listing and its opening of the active file shows as one that was not:
        its lines (the old active file's) are read by the next scan."""
        return all(r.stamp in self.consumed for r in list_family(self.dir, self.name).rotations)

    def _read_finished(self, rot: Rotation, offset: int, progress: Progress | None) -> int:
        """A rotated file no longer grows: its tail, if any, is its last line."""
        path = rot.preferred
        reader = LineReader(path, offset, progress)
        lines = 0
        try:
            for batch in reader.batches():
                lines += self.sink.apply(self.key, batch)
        except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
            if rot.plain is not None and rot.gz is not None and path == rot.plain:
                return self._read_finished(Rotation(rot.stamp, None, rot.gz), offset, progress)
            self._unreadable(path, exc)
            return lines
        except OSError as exc:
            self._unreadable(path, exc)
            return lines
        self._count_file(reader.result.ident)
        self._count_oversized(reader)
        if reader.result.truncated:
            with self.sink.lock:
                self.sink.stats.truncated_gz += 1
        if reader.result.tail:
            self.sink.apply_tail(self.key, reader.result.tail)
            lines += 1
        return lines

    def _read_active(self, path: Path, cursor: Cursor | None, progress: Progress | None) -> int:
        reader = LineReader(path, cursor.offset if cursor else 0, progress)
        lines = 0
        try:
            for batch in reader.batches():
                lines += self.sink.apply(self.key, batch)
                if batch:
                    self._last_active = batch[-1]
        except OSError as exc:
            self.active = None
            self._unreadable(path, exc)
            return lines
        res = reader.result
        self._count_file(res.ident)
        self._count_oversized(reader)
        self.active = Cursor(res.ident, res.end, res.head[: min(HEAD_BYTES, res.end)])
        return lines

    def _unreadable(self, path: Path, exc: OSError) -> None:
        """A file there but not readable is named (in ``stats.unreadable``); one that
        went away between the listing and the open is simply not there."""
        if isinstance(exc, FileNotFoundError):
            return
        with self.sink.lock:
            if len(self.sink.stats.unreadable) < 100:
                self.sink.stats.unreadable.add(str(path))

    def _count_oversized(self, reader: LineReader) -> None:
        """Lines the reader dropped for their length: malformed, as gridctl could not
        have written them (a gzip bomb of one line, a file that never ends a line)."""
        if reader.result.oversized:
            with self.sink.lock:
                self.sink.stats.malformed += reader.result.oversized

    def _count_file(self, ident: tuple[int, int]) -> None:
        if ident not in self.seen_files:
            self.seen_files.add(ident)
            with self.sink.lock:
                self.sink.stats.files += 1


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
