"""Only regular files are opened.

A FIFO (or a device) named like a log file blocked ``open`` until a writer came, and
``metrics``, ``logs``, ``spans`` and the dashboard's replay hung with it (``q`` no longer
exited). Every file tokentop reads is opened here: without blocking, checked to be a
regular file, else refused with an ``OSError`` ("not a regular file") that the callers
already report as one line and skip.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO


def open_regular(path: str | Path) -> int:
    """A read-only descriptor of ``path`` if it is a regular file (symlinks followed);
    raises OSError otherwise (FileNotFoundError when it is gone)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_binary(path: str | Path) -> BinaryIO:
    """``open(path, "rb")`` for regular files only (see :func:`open_regular`)."""
    return os.fdopen(open_regular(path), "rb")


def read_regular(path: str | Path, limit: int | None = None) -> bytes:
    """The bytes of a regular file (see :func:`open_regular`); past ``limit`` bytes it
    is refused with an OSError ("larger than N MiB") instead of read whole."""
    with open_binary(path) as fh:
        if limit is None:
            return fh.read()
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit >> 20} MiB", str(path))
    return data


def check_regular(path: str | Path) -> None:
    """Raise OSError unless ``path`` is a regular file: before handing it to a library
    that opens it itself (SQLite would block on a FIFO just as ``open`` did)."""
    os.close(open_regular(path))
