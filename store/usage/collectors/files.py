"""Incremental reading of append-only JSONL logs: which files changed, from where to read.

A collector keeps one ``FileOffset`` per file in the store: the end of the last complete
line it consumed, the inode and the file's first bytes. On the next pass a file is read
from that offset if it still starts with the same bytes and did not shrink; otherwise
(truncated, or replaced under the same name, even on a reused inode) it is read again
from the start and the store's dedup keys absorb what was already counted. A file whose
inode and size are unchanged is skipped without being opened.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tokentop.store.metrics.reader import LineReader, same_file
from tokentop.store.usage.model import FileOffset


@dataclass
class Counts:
    """What one collector did in one pass (JSON-friendly)."""

    files: int = 0  # files found
    files_read: int = 0  # files that had new bytes
    bytes_read: int = 0
    lines: int = 0  # complete lines consumed
    usage_lines: int = 0  # lines that carried usage and became requests
    requests: int = 0  # requests handed to the store (after in-pass dedup)
    malformed: int = 0  # lines that are not JSON
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> lines

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n

    def as_dict(self) -> dict:
        return {
            "files": self.files,
            "files_read": self.files_read,
            "bytes_read": self.bytes_read,
            "lines": self.lines,
            "usage_lines": self.usage_lines,
            "requests": self.requests,
            "malformed": self.malformed,
            "skipped": dict(sorted(self.skipped.items())),
        }


@dataclass
class FileTask:
    """One file with bytes to read: from ``start`` (0 when new, truncated or replaced)."""

    path: Path
    start: int
    size: int
    inode: int
    resumed: bool  # True when reading on from a stored offset (state before it matters)


def discover(roots: Iterable[Path], pattern: str) -> list[str]:
    """Files under each existing root (recursively) whose name matches ``pattern``
    (``*.jsonl``, ``rollout-*.jsonl``), sorted, de-duplicated. One ``scandir`` per
    directory and no ``stat`` per file: a warm scan of thousands of files stays cheap."""
    prefix, _, suffix = pattern.partition("*")
    seen: set[str] = set()
    out: list[str] = []
    stack = [str(r) for r in roots]
    while stack:
        top = stack.pop()
        try:
            with os.scandir(top) as it:
                for e in it:
                    try:
                        if e.is_dir(follow_symlinks=False):
                            stack.append(e.path)
                        elif (
                            e.name.endswith(suffix)
                            and e.name.startswith(prefix)
                            and e.is_file()
                            and e.path not in seen
                        ):
                            seen.add(e.path)
                            out.append(e.path)
                    except OSError:
                        continue
        except OSError:
            continue
    out.sort()
    return out


def plan(paths: Iterable[str | Path], offsets: dict[str, FileOffset]) -> list[FileTask]:
    """The files that have something new, each with where to start reading."""
    tasks: list[FileTask] = []
    for name in paths:
        try:
            st = os.stat(name)
        except OSError:
            continue
        prev = offsets.get(str(name))
        p = Path(name)
        if prev is not None:
            if prev.inode == st.st_ino and st.st_size == prev.offset:
                continue  # unchanged: not even opened
            if same_file(p, prev.offset, prev.head):
                if st.st_size > prev.offset:
                    tasks.append(FileTask(p, prev.offset, st.st_size, st.st_ino, prev.offset > 0))
                continue
        if st.st_size > 0 or prev is not None:
            tasks.append(FileTask(p, 0, st.st_size, st.st_ino, False))
    return tasks


def read_lines(
    task: FileTask, progress: Callable[[int], None] | None = None
) -> tuple[LineReader, Iterator[list[bytes]]]:
    """A reader over the task's new complete lines (a partial last line is left)."""
    reader = LineReader(task.path, task.start, progress)
    return reader, reader.batches()


def offset_of(collector: str, task: FileTask, reader: LineReader) -> FileOffset:
    """Where ``reader`` stopped in ``task``'s file, as the store keeps it."""
    r = reader.result
    inode = r.ident[1] if r.ident != (0, 0) else task.inode
    return FileOffset(
        collector=collector, path=str(task.path), inode=inode, offset=r.end, head=r.head
    )
