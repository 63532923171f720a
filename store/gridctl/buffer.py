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
        """Store a batch (sorted by time within it). Returns it, numbered."""
        batch = sorted(records, key=self.time_of)
        for record in batch:
            record.seq = next(self._seq)  # type: ignore[attr-defined]
            buf = self.by_server.get(self.server_of(record))
            if buf is None:
                buf = self.by_server[self.server_of(record)] = deque(maxlen=self.capacity)
            buf.append(record)
        return batch

    def servers(self) -> list[str]:
        return sorted(self.by_server)

    def __len__(self) -> int:
        return sum(len(b) for b in self.by_server.values())

    def view(self, server: str | None, keep: Callable[[R], bool] | None = None,
             limit: int | None = None) -> list[R]:
        """The newest ``limit`` (default: capacity) records of one server or of all,
        oldest first, that ``keep`` accepts."""
        limit = self.capacity if limit is None else limit
        if server is not None:
            source: Iterable[R] = self.by_server.get(server, ())
        else:
            source = heapq.merge(*self.by_server.values(), key=self.time_of)
        if keep is not None:
            source = (r for r in source if keep(r))
        out: deque[R] = deque(source, maxlen=limit)
        return list(out)

    def all(self) -> Iterable[Any]:
        return itertools.chain.from_iterable(self.by_server.values())
