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
from tokentop.store.tail.reader import HEAD_BYTES, LineReader
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
    unreadable: list[Path] = field(default_factory=list)  # there, but not for this user


def last_plain_lines(path: Path, n: int) -> tuple[list[bytes], Cursor]:
    """The last ``n`` complete lines of a plain file and a cursor just past them.

    A trailing partial line (a writer mid-append) is neither returned nor consumed.
    Blocks are read backwards and joined once: prepending each block to the bytes in
    hand and recounting them was quadratic (a 256 MB tail: 73 s). At most
    ``TAIL_BYTES`` are held: lines older than that are not shown. Raises OSError if the
    file cannot be opened.
    """
    with open_binary(path) as fh:
        fd = fh.fileno()
        st = os.fstat(fd)
        size = st.st_size
        head = os.pread(fd, HEAD_BYTES, 0)
        blocks: list[bytes] = []  # newest first
        newlines = held = 0
        end = pos = size
        # Find the end of the last complete line (a partial one after it is left).
        while pos > 0:
            start = max(0, pos - BLOCK)
            data = os.pread(fd, pos - start, start)
            pos = start
            cut = data.rfind(b"\n")
            if cut >= 0:
                end = pos + cut + 1
                blocks.append(data[: cut + 1])
                newlines, held = data.count(b"\n", 0, cut + 1), cut + 1
                break
        else:
            end = 0
        # Walk back from there until n lines are in hand.
        while newlines <= n and pos > 0 and held < TAIL_BYTES:
            start = max(0, pos - BLOCK)
            data = os.pread(fd, pos - start, start)
            pos = start
            blocks.append(data)
            newlines += data.count(b"\n")
            held += len(data)
    buf = b"".join(reversed(blocks))
    lines = buf[:-1].split(b"\n") if buf else []
    if pos > 0 and newlines <= n:
        lines = lines[1:]  # held bytes ran out: the first is the end of a longer line
    if pos > 0 or len(lines) > n:
        lines = lines[-n:] if n else []
    cursor = Cursor((st.st_dev, st.st_ino), end, head[: min(HEAD_BYTES, end)])
    return lines, cursor


def last_stream_lines(path: Path, n: int) -> tuple[list[bytes], bool]:
    """The last ``n`` lines of a finished file (gzip or plain), streamed.

    Returns (lines, truncated): a gzip stream cut short is read as far as it goes, and
    a finished file's unterminated last line counts as a line.
    """
    keep: deque[bytes] = deque(maxlen=max(n, 0))
    reader = LineReader(path)
    for batch in reader.batches():
        keep.extend(batch)
    if reader.result.tail.strip():
        keep.append(reader.result.tail)
    return list(keep), reader.result.truncated


def read_tail(directory: Path, name: str, n: int) -> Tail:
    """The newest ``n`` lines across the active file and its rotations (newest first)."""
    files = list_family(directory, name)
    tail = Tail(stamps={r.stamp for r in files.rotations})
    chunks: list[list[bytes]] = []
    have = 0
    try:
        lines, tail.cursor = last_plain_lines(files.active, n)
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
                lines, truncated = last_stream_lines(path, n)
                tail.truncated_gz += truncated
                return lines
            lines, _cursor = last_plain_lines(path, n)
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
