"""Find every log file of a pass and stat it once, in this process or in a forked one.

A warm pass over a home of many agents (the issue-14 bench: ~14,000 files in ~4,000
directories) spends most of its time in ``scandir`` and ``stat``: ~90 ms of CPU. Threads
do not help: every ``stat`` releases and retakes the GIL, and two walking threads beside
a main thread running Python took 130 ms of wall and 170 of CPU for the same work (the
GIL's convoy), so ``Survey`` walks in the calling thread, one source at a time, when it
is first asked. ``ForkedSurvey`` walks in a child process instead: ``tokentop report``
starts one before importing click and the report code (~100 ms of Python), which the
walk then runs beside on the other core; the child sends the names and stats back
through a pipe (``marshal``) and exits. Planning compares those stats with the stored
offsets without calling ``stat`` again.
"""

from __future__ import annotations

import marshal
import os
from collections.abc import Callable, Hashable, Mapping
from stat import S_ISREG
from typing import Any, NamedTuple

from tokentop.store import forked

Lister = Callable[[], list[str]]


class FileStat(NamedTuple):
    """What planning reads of a file's stat, under ``os.stat_result``'s names."""

    st_ino: int
    st_size: int
    st_mtime_ns: int


Stats = dict[str, "FileStat | os.stat_result | None"]


class Survey:
    """The files of each source (``files``) and their stats (``stats``)."""

    def __init__(self, sources: Mapping[Hashable, tuple[Lister, bool]]) -> None:
        """``sources``: key -> (a function listing its files, whether they are SQLite
        databases, whose ``-wal`` is stat'ed too)."""
        self._sources = dict(sources)
        self._found: dict[Hashable, list[str]] = {}
        self.stats: Stats = {}

    def files(self, key: Hashable) -> list[str]:
        """The files found for ``key`` (sorted); their stats join ``stats``."""
        found = self._found.get(key)
        if found is None:
            lister, database = self._sources[key]
            found, stats = list_and_stat(lister, database)
            self._found[key] = found
            self.stats.update(stats)
        return found

    def close(self) -> None:
        """Nothing left running (a forked survey reaps its child)."""


class ForkedSurvey(Survey):
    """A survey made by a child process, forked now: call it only while this process
    runs a single thread. The databases (a handful of files) are left to the parent,
    so their reads can start before the child is done with the log directories.
    Anything that goes wrong in the child (no ``fork``, a child that dies, a reply cut
    short) leaves its sources to the parent, walked as ``Survey`` walks them, so a
    failed fork costs time, never files."""

    def __init__(self, sources: Mapping[Hashable, tuple[Lister, bool]]) -> None:
        super().__init__(sources)
        self._pid = 0
        self._pipe: int | None = None
        self._forked = {key for key, (_, database) in self._sources.items() if not database}
        fork = getattr(os, "fork", None)
        if fork is None:
            return
        try:
            read, write = os.pipe()
        except OSError:
            return
        try:
            pid = fork()
        except OSError:
            os.close(read)
            os.close(write)
            return
        if pid == 0:  # the child: walk, reply, leave without running anything else
            code = 1
            try:
                os.close(read)
                _reply(write, {k: v for k, v in self._sources.items() if k in self._forked})
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        self._pid, self._pipe = pid, read

    def files(self, key: Hashable) -> list[str]:
        if self._pipe is not None and key in self._forked:
            self._receive()
        return super().files(key)

    def _receive(self) -> None:
        assert self._pipe is not None
        pipe, self._pipe = self._pipe, None
        try:
            reply: dict[Any, Any] = marshal.loads(forked.receive(pipe))
        except (OSError, EOFError, ValueError, TypeError):
            reply = {}
        self._reap()
        if not isinstance(reply, dict):
            return
        for key, value in reply.items():
            if key not in self._forked:
                continue
            files, stats = value
            self._found[key] = files
            self.stats.update({name: None if st is None else FileStat(*st)
                               for name, st in stats.items()})

    def _reap(self) -> None:
        if self._pid:
            forked.reap(self._pid)
            self._pid = 0

    def close(self) -> None:
        if self._pipe is not None:
            os.close(self._pipe)  # the child, if still writing, ends on a broken pipe
            self._pipe = None
        self._reap()


def _reply(fd: int, sources: Mapping[Hashable, tuple[Lister, bool]]) -> None:
    """The child's side: every source's files and stats (plain tuples), marshalled."""
    out: dict[Any, Any] = {}
    for key, (lister, database) in sources.items():
        files, stats = list_and_stat(lister, database)
        out[key] = (files, {name: None if st is None else
                            (st.st_ino, st.st_size, st.st_mtime_ns)
                            for name, st in stats.items()})
    forked.send(fd, marshal.dumps(out))


def list_and_stat(lister: Lister, database: bool) -> tuple[list[str], Stats]:
    """One source's files (its lister's answer) and their stats (None: gone). A
    database's lister may name paths unchecked: what is missing or not a regular file
    is left out here, from the ``stat`` taken anyway, with the ``-wal`` beside it."""
    files = lister()
    stats: Stats = {}
    found = []
    for name in files:
        try:
            st = os.stat(name)
        except OSError:
            st = None
        if database:
            if st is None or not S_ISREG(st.st_mode):
                continue
            wal = f"{name}-wal"
            try:
                stats[wal] = os.stat(wal)
            except OSError:
                stats[wal] = None
        stats[name] = st
        found.append(name)
    return found, stats
