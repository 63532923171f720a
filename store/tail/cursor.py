"""Is this still the file I read? A position in a file, and the proof that it holds.

Inode numbers are no proof: a file deleted and recreated may get the freed number, and
lumberjack renames the active file (same inode) before it compresses it to a new one.
So a position carries the file's first bytes: the file is the same when it did not
shrink below the offset and still starts with them (a ``.gz`` copy is the same file
when its decompressed start matches).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tokentop.store.tail.reader import read_gz_head
from tokentop.store.tail.regular import open_binary


@dataclass
class Cursor:
    """Where reading stopped: the file's identity, the offset and its first bytes."""

    ident: tuple[int, int]  # (st_dev, st_ino) when it was read
    offset: int  # just past the last complete line consumed
    head: bytes  # the first bytes (at most ``HEAD_BYTES``, at most ``offset``)

    def matches(self, path: Path) -> bool:
        """Does ``path`` hold the bytes this cursor consumed (plain, or gzip of them)?"""
        return same_file(path, self.offset, self.head)


def same_file(path: Path, offset: int, head: bytes) -> bool:
    """Does the file at ``path`` still hold what a reader consumed up to ``offset``?

    A plain file: it did not shrink below ``offset`` and starts with ``head`` (the first
    bytes seen when it was read). A ``.gz`` file: it decompresses to a start equal to
    ``head``. False if unreadable.
    """
    try:
        if path.name.endswith(".gz"):
            return read_gz_head(path, len(head)) == head
        with open_binary(path) as fh:
            if os.fstat(fh.fileno()).st_size < offset:
                return False
            return os.pread(fh.fileno(), len(head), 0) == head if head else True
    except OSError:
        return False
