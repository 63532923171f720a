"""The last N complete lines of a file family, without reading them whole.

A viewer of ``logs.jsonl`` wants the newest lines now, not after decoding 600 MB of
history: a plain file is read backwards in blocks until enough newlines were seen (the
Toolong idea); a rotated ``.gz`` cannot be seeked, so it is streamed through
``LineReader`` keeping only a bounded deque. Older rotations are touched only when the
newer files hold fewer than N lines.

The result also says where following should start: the end of the last complete line
of the active file and its first bytes, which is exactly the cursor ``FamilyTail``
keeps (``tokentop.store.tail.family_tail``), so it picks up from there without reading
anything twice.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from tokentop.store.tail.cursor import Cursor
from tokentop.store.tail.family import Rotation, list_family
from tokentop.store.tail.family_tail import FamilyTail
from tokentop.store.tail.reader import HEAD_BYTES, MAX_LINE, LineReader
from tokentop.store.tail.regular import open_binary

BLOCK = 256 << 10
TAIL_BYTES = 64 << 20  # the most read back for the newest lines of one file


@dataclass
class Tail:
    """The newest lines (oldest first) and where the active file was left."""

    lines: list[bytes] = field(default_factory=list)
    cursor: Cursor | None = None  # None: there was no active file
    stamps: set[str] = field(default_factory=set)  # rotations that exist now
    truncated_gz: int = 0
    oversized: int = 0  # lines past MAX_LINE, skipped: malformed to the reader's sink
    unreadable: list[Path] = field(default_factory=list)  # there, but not for this user


def last_plain_lines(path: Path, n: int) -> tuple[list[bytes], Cursor, int]:
    """The last ``n`` complete lines of a plain file, a cursor just past them, and how
    many lines longer than ``MAX_LINE`` were skipped on the way.

    A trailing partial line (a writer mid-append) is neither returned nor consumed.
    Blocks are read backwards and each line is joined once, at its start: prepending
    each block to the bytes in hand and recounting them was quadratic (a 256 MB tail:
    73 s), and holding the blocks, their join and its split at once cost three times
    the tail (275 MB of memory for 64 MiB of lines). At most ``TAIL_BYTES`` are read
    back: lines older than that are not shown. A line past ``MAX_LINE`` is dropped as it
    streams past, as the forward read drops it (``LineSplitter``), and counted. Raises
    OSError if the file cannot be opened.
    """
    with open_binary(path) as fh:
        fd = fh.fileno()
        st = os.fstat(fd)
        head = os.pread(fd, HEAD_BYTES, 0)
        end = _last_newline_end(fd, st.st_size)
        back = _Backward(n)
        pos = end - 1 if end else 0  # lines are the \n-separated pieces of [0, end - 1)
        while pos > 0 and not back.full() and end - pos < TAIL_BYTES:
            start = max(0, pos - BLOCK)
            back.feed(os.pread(fd, pos - start, start))
            pos = start
        if end and not back.full() and (pos == 0 or os.pread(fd, 1, pos - 1) == b"\n"):
            back.finish()  # the bytes in hand are a whole line
        elif back.dropping:
            back.oversized += 1  # cut by TAIL_BYTES, but longer than any kept line
    lines = back.lines[::-1]
    cursor = Cursor((st.st_dev, st.st_ino), end, head[: min(HEAD_BYTES, end)])
    return lines, cursor, back.oversized


def _last_newline_end(fd: int, size: int) -> int:
    """The offset just past the file's last newline (0: there is none)."""
    pos = size
    while pos > 0:
        start = max(0, pos - BLOCK)
        cut = os.pread(fd, pos - start, start).rfind(b"\n")
        if cut >= 0:
            return start + cut + 1
        pos = start
    return 0


class _Backward:
    """Lines cut from blocks fed newest first; a line's pieces are joined once."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.lines: list[bytes] = []  # newest first
        self.oversized = 0
        self.dropping = False  # the line in hand is past MAX_LINE: its bytes are let go
        self._parts: list[bytes] = []  # the line in hand, newest piece first
        self._held = 0

    def full(self) -> bool:
        return len(self.lines) >= self.n

    def feed(self, data: bytes) -> None:
        stop = len(data)
        while not self.full():
            cut = data.rfind(b"\n", 0, stop)
            if cut < 0:
                break
            self._add(data[cut + 1:stop])
            self.finish()
            stop = cut
        if stop and not self.full():
            self._add(data[:stop])

    def _add(self, piece: bytes) -> None:
        if self.dropping or not piece:
            return
        self._held += len(piece)
        if self._held > MAX_LINE:
            self.dropping = True
            self._parts.clear()
        else:
            self._parts.append(piece)

    def finish(self) -> None:
        if self.dropping:
            self.oversized += 1
        else:
            self.lines.append(b"".join(reversed(self._parts)))
        self._parts.clear()
        self._held = 0
        self.dropping = False


def last_stream_lines(path: Path, n: int) -> tuple[list[bytes], bool, int]:
    """The last ``n`` lines of a finished file (gzip or plain), streamed.

    Returns (lines, truncated, oversized): a gzip stream cut short is read as far as it
    goes, a finished file's unterminated last line counts as a line, and lines past
    ``MAX_LINE`` (a gzip bomb of one line) are skipped and counted.
    """
    keep: deque[bytes] = deque(maxlen=max(n, 0))
    reader = LineReader(path)
    for batch in reader.batches():
        keep.extend(batch)
    if reader.result.tail.strip():
        keep.append(reader.result.tail)
    return list(keep), reader.result.truncated, reader.result.oversized


def read_tail(directory: Path, name: str, n: int) -> Tail:
    """The newest ``n`` lines across the active file and its rotations (newest first)."""
    files = list_family(directory, name)
    tail = Tail(stamps={r.stamp for r in files.rotations})
    chunks: list[list[bytes]] = []
    have = 0
    try:
        lines, tail.cursor, oversized = last_plain_lines(files.active, n)
        tail.oversized += oversized
        chunks.append(lines)
        have += len(lines)
    except FileNotFoundError:
        pass
    except OSError:
        tail.unreadable.append(files.active)
    for rot in reversed(files.rotations):
        if have >= n:
            break
        lines = _rotation_lines(rot, n - have, tail)
        chunks.append(lines)
        have += len(lines)
    for chunk in reversed(chunks):
        tail.lines.extend(chunk)
    if len(tail.lines) > n:
        tail.lines = tail.lines[-n:]
    return tail


def _rotation_lines(rot: Rotation, n: int, tail: Tail) -> list[bytes]:
    # The plain file is the truth while lumberjack compresses (family.Rotation).
    for path in (rot.plain, rot.gz):
        if path is None:
            continue
        try:
            if path.name.endswith(".gz"):
                lines, truncated, oversized = last_stream_lines(path, n)
                tail.truncated_gz += truncated
                tail.oversized += oversized
                return lines
            lines, _cursor, oversized = last_plain_lines(path, n)
            tail.oversized += oversized
            return lines
        except FileNotFoundError:
            continue  # vanished between listing and opening: try the other copy
        except OSError:
            tail.unreadable.append(path)
            continue
    return []


def start_after(follower: FamilyTail, tail: Tail) -> None:
    """Make ``follower`` continue where ``tail`` stopped: nothing is read twice."""
    follower.active = tail.cursor
    follower.consumed = set(tail.stamps)
