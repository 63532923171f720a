"""A few calls run in forked children beside this process, their results fetched when
first asked for.

Why: a pass reads the agents' databases while it plans and reads the log files. In
worker threads those reads shared one interpreter lock with the pass: SQLite's scans
run without it, but Hermes's 18,000 rows and OpenCode's JSON messages become Python
objects under it, and on the issue-14 home the reads ended ~100 ms after the walk of
the log directories, on the pass's critical path. Forked children have a lock each and
the other core. They inherit everything they need (the tasks, their row marks, the
modules imported), run their share of the calls in order, send the results back
pickled (in a ``pack``ed form: the requests as JSON) and leave by ``os._exit``,
touching nothing of this process (its store connection included: a child opens its
own).

Forking is only safe while this process runs a single thread (the dashboard and
``tokentop watch`` collect from worker threads: they keep the thread pool), and a child
that fails costs time, never results: its calls are then made here.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from tokentop.store import forked

T = TypeVar("T")
R = TypeVar("R")

WAYS = 2  # children: as many as the cores of the machine class tokentop is tuned on


class _Child:
    """One forked child: its pid, its reply's pipe, the indices of the calls it makes."""

    def __init__(self, pid: int, pipe: int, indices: list[int]) -> None:
        self.pid, self.pipe, self.indices = pid, pipe, indices


class ForkMap(Generic[T, R]):
    """``fn`` over ``items`` in up to ``ways`` forked children, the items dealt in turn;
    ``result(i)`` is ``fn(items[i])``."""

    def __init__(self, fn: Callable[[T], R], items: Sequence[T],
                 pack: Callable[[R], Any], unpack: Callable[[Any], R],
                 ways: int = WAYS) -> None:
        self._fn, self._items, self._unpack = fn, list(items), unpack
        self._packed: dict[int, Any] = {}  # replies received, not yet asked for
        self._children: dict[int, _Child] = {}  # by the index of each call
        for n in range(max(1, min(ways, len(self._items)))):
            indices = list(range(n, len(self._items), ways))
            child = self._fork(indices, pack)
            if child is None:
                return  # the rest is made here when asked for
            self._children.update(dict.fromkeys(indices, child))

    def _fork(self, indices: list[int], pack: Callable[[R], Any]) -> _Child | None:
        try:
            read, write = os.pipe()
        except OSError:  # out of descriptors
            return None
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return None
        if pid == 0:  # the child: its calls, one reply, out without Python's exit
            code = 1
            try:
                os.close(read)
                with os.fdopen(write, "wb") as pipe:  # streamed: no second copy here
                    pickle.dump([pack(self._fn(self._items[i])) for i in indices], pipe,
                                protocol=pickle.HIGHEST_PROTOCOL)
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        return _Child(pid, read, indices)

    @staticmethod
    def possible() -> bool:
        """Whether a fork is safe here: ``fork`` exists and this process runs one
        thread (a thread pool in it, the dashboard's workers: no)."""
        threading = sys.modules.get("threading")
        return hasattr(os, "fork") and (threading is None or threading.active_count() == 1)

    def result(self, i: int) -> R:
        """``fn(items[i])``, once: a result is handed over, not kept (a database's
        first read is 70,000 requests; the next one's are unpacked after it)."""
        if i not in self._packed:
            child = self._children.get(i)
            if child is not None:
                self._receive(child)
            if i not in self._packed:  # no child for it, or one that failed
                return self._fn(self._items[i])
        return self._unpack(self._packed.pop(i))

    def _receive(self, child: _Child) -> None:
        got: Any = None
        if child.pipe is not None:
            pipe, child.pipe = child.pipe, None
            try:
                with os.fdopen(pipe, "rb") as reply:
                    got = pickle.load(reply)
            except Exception:  # a child cut short: its reply is not to be trusted
                got = None
            self._reap(child)
        for i in child.indices:
            self._children.pop(i, None)
        if isinstance(got, list) and len(got) == len(child.indices):
            self._packed.update(zip(child.indices, got, strict=True))

    @staticmethod
    def _reap(child: _Child) -> None:
        if child.pid:
            forked.reap(child.pid)
            child.pid = 0

    def close(self) -> None:
        """Nothing left running: an unread child ends on a broken pipe, and is reaped."""
        for child in {id(c): c for c in self._children.values()}.values():
            if child.pipe is not None:
                os.close(child.pipe)
                child.pipe = None
            self._reap(child)
        self._children.clear()
