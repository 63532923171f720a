"""gridctl's per-server signal files (``logs.jsonl``, ``traces.jsonl``), followed.

One class, two registrations (the Logs and the Spans screen). The first load is the
newest records of every server, sorted here, off the UI thread (the screen's own sort
is then a single pass); then the files are polled for appends. Records gathered
between two deliveries go to the screen as one ``RecordsArrived``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.message import Message

from tokentop.store.gridctl.follow import DEFAULT_CAPACITY, SignalFollower, SinkStats
from tokentop.tui.sources.base import ThreadSource

if TYPE_CHECKING:
    from tokentop.tui.app import TokentopApp

POLL_SECONDS = 0.25


class RecordsArrived(Message):
    """New records since the last batch (or the first load), and the reader's counters."""

    def __init__(self, records: list[Any], stats: SinkStats, servers: list[str],
                 with_files: list[str], error: str | None, first: bool = False) -> None:
        super().__init__()
        self.records = records
        self.stats = stats
        self.servers = servers
        self.with_files = with_files
        self.error = error
        self.first = first


class GridLogFeed(ThreadSource):
    """One signal of every server: ``signal`` is the file's stem (logs, traces)."""

    def __init__(self, host: TokentopApp, name: str, signal: str,
                 parse: Callable[[list[bytes], str, Any], list[Any]],
                 time_of: Callable[[Any], int], capacity: int = DEFAULT_CAPACITY) -> None:
        super().__init__(host)
        self.name = name  # one class, two registrations
        self.what = f"reading {signal}"
        self.signal = signal
        self.parse = parse
        self.time_of = time_of
        self.capacity = capacity
        self._records: list[Any] = []
        self._first = False
        self._state: tuple[SinkStats, list[str], list[str], str | None] | None = None

    def run(self, stop: threading.Event) -> None:
        follower = SignalFollower(self.host.source.layout, self.signal, self.parse,
                                  capacity=self.capacity)
        self._add(follower, sorted(follower.load(), key=self.time_of), first=True)
        if not self.host.follow:
            return
        seen_error = follower.error
        while not stop.wait(POLL_SECONDS):
            records = follower.rescan()
            if records or follower.error != seen_error:
                seen_error = follower.error
                self._add(follower, records)

    def _add(self, follower: SignalFollower[Any], records: list[Any],
             first: bool = False) -> None:
        with follower.sink.lock:
            stats = _copy_stats(follower.stats)
        state = (stats, follower.servers(), follower.servers_with_files(), follower.error)
        with self._lock:
            self._records.extend(records)
            self._first = self._first or first
            self._state = state
        self.changed()

    def deliver(self) -> None:
        with self._lock:
            records, self._records = self._records, []
            first, self._first = self._first, False
            state = self._state
        if state is None:  # failed before the first load
            state = (SinkStats(), [], [], None)
        stats, servers, with_files, error = state
        for pump in self.subscribers:
            pump.post_message(RecordsArrived(records, stats, servers, with_files,
                                             self.error or error, first))


def _copy_stats(stats: SinkStats) -> SinkStats:
    """A snapshot for the UI thread: the worker keeps counting into the original."""
    return SinkStats(**{k: getattr(stats, k) for k in stats.__dataclass_fields__})
