"""A forked child's one reply through a pipe, and its end: what the walk of the log
directories (``tokentop.store.tail.survey``) and the database readers
(``tokentop.store.usage.forkmap``) share."""

from __future__ import annotations

import contextlib
import os


def send(fd: int, data: bytes) -> None:
    """The child's side: all of ``data`` down the pipe, then the pipe closed."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.close(fd)


def receive(fd: int) -> bytes:
    """The parent's side: everything the child wrote, to its end (the pipe closed)."""
    chunks = []
    with os.fdopen(fd, "rb") as pipe:
        while chunk := pipe.read(1 << 20):
            chunks.append(chunk)
    return b"".join(chunks)


def reap(pid: int) -> None:
    """Wait for a child to end (one reaped already is no error)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
