"""The newest records of each server, bounded, and views over one server or all.

A viewer keeps at most ``capacity`` records per server (a deque evicts the oldest), so
memory does not grow with the files however long it runs; switching servers or
filters re-reads these deques, never the files. Each record gets a growing ``seq``
when it arrives: a stable identity for caches and cursors.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

R = TypeVar("R")


class ServerBuffers(Generic[R]):
    def __init__(self, capacity: int, time_of: Callable[[R], int],
                 server_of: Callable[[R], str]) -> None:
        self.capacity = capacity
        self.time_of = time_of
        self.server_of = server_of
        self.by_server: dict[str, deque[R]] = {}
        self._seq = itertools.count(1)

    def add(self, records: Iterable[R]) -> list[R]:
        """Store a batch (sorted by time within it: cheap if it already is). Returns it,
        numbered."""
        batch = sorted(records, key=self.time_of)
        seq = self._seq
        by_server = self.by_server
        server_of = self.server_of
        for record in batch:
            record.seq = next(seq)  # type: ignore[attr-defined]
            server = server_of(record)
            buf = by_server.get(server)
            if buf is None:
                buf = by_server[server] = deque(maxlen=self.capacity)
            buf.append(record)
        return batch

    def servers(self) -> list[str]:
        return sorted(self.by_server)

    def __len__(self) -> int:
        return sum(len(b) for b in self.by_server.values())

    def snapshot(self, server: str | None) -> list[list[R]]:
        """Copies of the deques a view of ``server`` (None: all) reads: a view can then be
        computed in another thread while new records keep arriving here."""
        if server is not None:
            return [list(self.by_server.get(server, ()))]
        return [list(b) for b in self.by_server.values()]

    def view(self, server: str | None, keep: Callable[[R], bool] | None = None,
             limit: int | None = None) -> list[R]:
        """The newest ``limit`` (default: capacity) records of one server or of all,
        oldest first, that ``keep`` accepts."""
        return merge_view(self.snapshot(server), self.time_of, keep,
                          self.capacity if limit is None else limit)

    def all(self) -> Iterable[Any]:
        """Every held record, server by server (for a trace's spans across servers)."""
        return itertools.chain.from_iterable(self.by_server.values())


def merge_view(parts: list[list[R]], time_of: Callable[[R], int],
               keep: Callable[[R], bool] | None, limit: int) -> list[R]:
    """Merge per-server lists (each in time order) by time, filter, keep the newest."""
    source: Iterable[R] = parts[0] if len(parts) == 1 else heapq.merge(*parts, key=time_of)
    if keep is not None:
        source = (r for r in source if keep(r))
    out: deque[R] = deque(source, maxlen=limit)
    return list(out)
