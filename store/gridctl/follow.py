"""Follow one gridctl signal (logs or traces) of every server, keeping a bounded tail.

Start-up reads only the newest ``capacity`` lines of each server (``backread``); from
there each server's files are followed by ``tokentop.store.tail``'s ``FamilyTail`` (same
rotation handling: a renamed active file is finished from the cursor, new backups are
read whole, a wiped file is read again), which hands complete lines to a ``RecordSink``
that parses them. Records wait in the sink until ``drain`` takes them: a UI worker
drains once per poll and posts one message per batch, never one per line.

The follower is a plain blocking object: the UI runs ``follow`` in a thread worker, the
CLI calls ``load`` (and ``rescan`` in a loop for ``--follow``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from tokentop.store.metrics.layout import Layout
from tokentop.store.metrics.replay import ReplayStats
from tokentop.store.tail.backread import read_tail, start_after
from tokentop.store.tail.family import list_family
from tokentop.store.tail.family_tail import FamilyTail
from tokentop.store.tail.reader import MAX_LINE

R = TypeVar("R")

DEFAULT_CAPACITY = 10_000
POLL_SECONDS = 0.25
PARSE_SLICE = 256  # start-up tail lines parsed at once: its bytes and records never both whole

# (lines of one server in file order, server, stats) -> records; counts what it skips.
Parser = Callable[[list[bytes], str, "SinkStats"], list[R]]


@dataclass
class SinkStats(ReplayStats):
    """``ReplayStats`` (what ``FamilyTail`` updates) plus why the last bad line was bad."""

    last_error: str | None = None
    records: int = 0  # records parsed since start (not only those still held)


@dataclass
class RecordSink(Generic[R]):
    """What ``FamilyTail`` writes into: parses lines, queues records until drained."""

    parse: Parser[R]
    stats: SinkStats = field(default_factory=SinkStats)
    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: list[R] = field(default_factory=list)

    def apply(self, server: str, lines: list[bytes]) -> int:
        records = self.parse(lines, server, self.stats)
        with self.lock:
            self.stats.records += len(records)
            self.pending.extend(records)
        return len(lines)

    def apply_tail(self, server: str, tail: bytes) -> None:
        """A finished file's unterminated last line: a record if it parses."""
        if tail.strip():
            self.apply(server, [tail])

    def drain(self) -> list[R]:
        with self.lock:
            out, self.pending = self.pending, []
        return out


class SignalFollower(Generic[R]):
    """Every server's ``<signal>.jsonl`` family under a telemetry root."""

    def __init__(self, root: Path | Layout, signal: str, parse: Parser[R], *,
                 capacity: int = DEFAULT_CAPACITY) -> None:
        self.layout = root if isinstance(root, Layout) else Layout.resolve(root)
        self.signal = signal
        self.capacity = capacity
        self.sink: RecordSink[R] = RecordSink(parse)
        self.tails: dict[str, FamilyTail] = {}
        self.error: str | None = None
        self._lock = threading.Lock()

    @property
    def root(self) -> Path:
        return self.layout.path

    @property
    def stats(self) -> SinkStats:
        return self.sink.stats

    def servers(self) -> list[str]:
        """Servers found so far (``stack/server``), sorted."""
        return sorted(self.tails)

    def servers_with_files(self) -> list[str]:
        """Servers that have at least one file of this signal."""
        out = []
        for name, tail in sorted(self.tails.items()):
            if list_family(tail.dir, self.signal).all_paths():
                out.append(name)
        return out

    def load(self) -> list[R]:
        """Discover servers and take the newest ``capacity`` records of each."""
        with self._lock:
            self._discover()
        return self.sink.drain()

    def rescan(self) -> list[R]:
        """Read what is new (new servers included). Returns the new records."""
        with self._lock:
            self._discover()
            for tail in list(self.tails.values()):
                try:
                    tail.scan()
                except OSError as exc:  # unreadable directory: say so, keep going
                    self.error = f"reading {tail.dir}: {exc}"
        return self.sink.drain()

    def _discover(self) -> None:
        if not self.layout.stack and not self.layout.path.is_dir():
            self.error = f"{self.layout.path} does not exist"
            return
        self.error = None
        if not self.tails and self.layout.stack is None:
            self.layout = Layout.resolve(self.layout.path)  # it may have been empty
        for name, server_dir in self.layout.server_dirs().items():
            if name in self.tails:
                continue
            follower = FamilyTail(name, server_dir, self.sink, self.signal)
            tail = read_tail(server_dir, self.signal, self.capacity)
            lines, tail.lines = tail.lines, []
            while lines:  # parsed a slice at a time, each let go once parsed
                self.sink.apply(name, lines[:PARSE_SLICE])
                del lines[:PARSE_SLICE]
            with self.sink.lock:
                self.sink.stats.truncated_gz += tail.truncated_gz
                if tail.oversized:  # counted as the forward read counts them
                    self.sink.stats.malformed += tail.oversized
                    self.sink.stats.last_error = f"line longer than {MAX_LINE >> 20} MiB"
                self.sink.stats.unreadable.update(str(p) for p in tail.unreadable)
            start_after(follower, tail)
            self.tails[name] = follower

    def follow(self, stop: threading.Event, on_records: Callable[[list[R]], None],
               interval: float = POLL_SECONDS) -> None:
        """Poll every ``interval`` seconds until ``stop``; hand each non-empty batch on.

        Polling (a few ``stat`` calls per server) rather than file events: it bounds the
        update rate by itself and works on network filesystems.
        """
        while not stop.wait(interval):
            records = self.rescan()
            if records:
                on_records(records)
