"""The running summary of airstore access events, as airstore's ``GetSummary`` computes it.

``GetSummary`` (beam-cloud/airstore ``pkg/api/v1/access_log.go``) counts, over the reads
of one workspace session:

- ``total_reads``; ``backend_reads`` (``cache_source == "backend_rpc"``) and
  ``cache_served_reads`` = total - backend;
- ``total_original_tokens`` and ``total_compressed_tokens``, both plain sums, and
  ``compression_ratio`` = compressed / original (0 without tokens);
- ``by_integration`` ``{events, original_tokens, compressed_tokens}`` and ``by_outcome``
  (a count), each skipping an empty integration or outcome; ``by_cache_source`` (a
  count) naming an empty source ``unknown``;
- ``top_paths``: the 20 paths (empty skipped) with the most original tokens, each with
  the ``source_uri`` of its first read, its events and ``total_tokens``.

``AccessSnapshot.to_dict`` prints exactly those keys, so a script written for the API's
``/access-log/summary`` reads tokentop's JSON. What airstore records but ``GetSummary``
leaves out is kept beside them under names of tokentop's: tokens *delivered* and saved
(``tokentop_*``: see ``event.py``), latency, fetch and compression times, strategies,
errors with their messages, sessions, mount (FUSE) vs gateway origin, a per-minute series.

Events are deduplicated on ``event_id`` (airstore's ``AccessService`` does the same
with Redis when it has one; a re-read page or a file holding the same events twice must
not count twice). Events without an id (the gateway interceptor writes none) always count.
The ids of the last ``DEDUPE_WINDOW`` events are remembered: a bounded memory.

``add`` folds events into counters, so a followed source costs what its new events
cost; ``snapshot`` freezes what a reader needs into an immutable ``AccessSnapshot``.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tokentop.store.access.event import AccessEvent

MINUTES = 7 * 24 * 60  # per-minute points kept (a week of minutes with reads)
TOP_PATHS = 20  # GetSummary's top paths
UNKNOWN = "unknown"  # GetSummary's name for an empty cache source
DEDUPE_WINDOW = 500_000  # event ids remembered for deduplication
MAX_MESSAGES = 500  # distinct error messages kept; the rest are counted together
OTHER_MESSAGES = "(other messages)"
FAILED = frozenset({"error", "timeout"})  # outcomes airstore gives an error_msg
TIMINGS = ("latency_ms", "fetch_ms", "compression_ms")


@dataclass(frozen=True)
class Group:
    """The reads of one integration, outcome, cache source, strategy, origin or session."""

    name: str
    reads: int
    original_tokens: int
    compressed_tokens: int  # airstore's plain sum
    delivered_tokens: int  # tokentop's: what the agent received

    @property
    def tokens_saved(self) -> int:
        return self.original_tokens - self.delivered_tokens

    def to_dict(self) -> dict[str, int]:
        """``GetSummary``'s ``integrationStats`` shape."""
        return {"events": self.reads, "original_tokens": self.original_tokens,
                "compressed_tokens": self.compressed_tokens}


@dataclass(frozen=True)
class PathStat:
    """One of ``GetSummary``'s ``top_paths``."""

    path: str
    source_uri: str
    events: int
    total_tokens: int  # original tokens read

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "source_uri": self.source_uri, "events": self.events,
                "total_tokens": self.total_tokens}


@dataclass(frozen=True)
class Timing:
    """One of airstore's durations over the reads that carry it (0 means not measured:
    airstore omits ``latency_ms`` and ``fetch_ms`` when zero)."""

    name: str
    count: int
    total: int
    max: int

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    def to_dict(self) -> dict[str, object]:
        mean = self.mean
        return {"count": self.count, "mean": None if mean is None else round(mean, 1),
                "max": self.max if self.count else None}


@dataclass(frozen=True)
class ErrorStat:
    """Failed reads (outcome ``error``/``timeout``) with one message."""

    outcome: str
    message: str
    count: int
    last_ts: int
    last_path: str

    def to_dict(self) -> dict[str, object]:
        return {"outcome": self.outcome, "message": self.message, "count": self.count,
                "last": _iso(self.last_ts), "last_path": self.last_path}


@dataclass(frozen=True)
class MinutePoint:
    minute: int  # unix minute (UTC)
    reads: int
    tokens_saved: int


@dataclass(frozen=True)
class AccessSnapshot:
    """One consistent view of the summary (immutable: safe to hand to the UI thread)."""

    reads: int = 0
    backend_reads: int = 0
    original_tokens: int = 0
    compressed_tokens: int = 0  # airstore's plain sum
    delivered_tokens: int = 0  # tokentop's
    first_ts: int | None = None  # unix ms
    last_ts: int | None = None
    by_integration: tuple[Group, ...] = ()
    by_outcome: tuple[Group, ...] = ()
    by_cache_source: tuple[Group, ...] = ()
    by_strategy: tuple[Group, ...] = ()
    by_origin: tuple[Group, ...] = ()
    sessions: tuple[Group, ...] = ()
    top_paths: tuple[PathStat, ...] = ()
    paths: int = 0  # distinct paths read
    errors: tuple[ErrorStat, ...] = ()
    failed_reads: int = 0
    timings: tuple[Timing, ...] = ()
    duplicates: int = 0  # events skipped as already counted (same event_id)
    per_minute: tuple[MinutePoint, ...] = ()
    version: int = 0  # changes whenever the summary does

    @property
    def cache_served_reads(self) -> int:
        return self.reads - self.backend_reads

    @property
    def tokens_saved(self) -> int:
        """tokentop's: original - delivered."""
        return self.original_tokens - self.delivered_tokens

    @property
    def ratio(self) -> float | None:
        """airstore's ``compression_ratio``; None before any tokens."""
        return self.compressed_tokens / self.original_tokens if self.original_tokens else None

    @property
    def cache_served_share(self) -> float | None:
        return self.cache_served_reads / self.reads if self.reads else None

    def timing(self, name: str) -> Timing:
        return next((t for t in self.timings if t.name == name), Timing(name, 0, 0, 0))

    def to_dict(self) -> dict[str, object]:
        """``GetSummary``'s document, then tokentop's additions (see the module docstring)."""
        ratio = self.ratio
        return {
            "total_reads": self.reads,
            "backend_reads": self.backend_reads,
            "cache_served_reads": self.cache_served_reads,
            "total_original_tokens": self.original_tokens,
            "total_compressed_tokens": self.compressed_tokens,
            "compression_ratio": 0.0 if ratio is None else round(ratio, 6),
            "by_integration": {g.name: g.to_dict() for g in self.by_integration},
            "by_outcome": {g.name: g.reads for g in self.by_outcome},
            "by_cache_source": {g.name: g.reads for g in self.by_cache_source},
            "top_paths": [p.to_dict() for p in self.top_paths],
            "tokentop_delivered_tokens": self.delivered_tokens,
            "tokentop_tokens_saved": self.tokens_saved,
            "by_strategy": {g.name: g.reads for g in self.by_strategy},
            "by_origin": {g.name: g.to_dict() for g in self.by_origin},
            "sessions": {g.name: g.to_dict() for g in self.sessions},
            "timings": {t.name: t.to_dict() for t in self.timings},
            "failed_reads": self.failed_reads,
            "errors": [e.to_dict() for e in self.errors],
            "paths": self.paths,
            "duplicates": self.duplicates,
            "first": _iso(self.first_ts),
            "last": _iso(self.last_ts),
            "per_minute": [{"minute": _iso(p.minute * 60_000), "reads": p.reads,
                            "tokentop_tokens_saved": p.tokens_saved} for p in self.per_minute],
        }


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


# Counter slots of a group: reads, original, compressed (airstore's), delivered (tokentop's).
_READS, _ORIG, _COMP, _DELIV = range(4)


def _bump(table: dict[str, list[int]], key: str, ev: AccessEvent, deliv: int) -> None:
    slot = table.get(key)
    if slot is None:
        slot = table[key] = [0, 0, 0, 0]
    slot[_READS] += 1
    slot[_ORIG] += ev.original_tokens
    slot[_COMP] += ev.compressed_tokens
    slot[_DELIV] += deliv


@dataclass
class _PathAcc:
    source_uri: str
    events: int = 0
    total_tokens: int = 0


@dataclass
class _ErrorAcc:
    count: int
    last_ts: int
    last_path: str


@dataclass
class AccessSummary:
    """Mutable counters; not thread-safe by itself (``AccessBook`` holds a lock)."""

    reads: int = 0
    backend: int = 0
    original_tokens: int = 0
    compressed_tokens: int = 0
    delivered_tokens: int = 0
    first_ts: int | None = None
    last_ts: int | None = None
    version: int = 0
    duplicates: int = 0
    failed: int = 0
    integration: dict[str, list[int]] = field(default_factory=dict)
    outcome: dict[str, list[int]] = field(default_factory=dict)
    cache_source: dict[str, list[int]] = field(default_factory=dict)
    strategy: dict[str, list[int]] = field(default_factory=dict)
    origin: dict[str, list[int]] = field(default_factory=dict)
    session: dict[str, list[int]] = field(default_factory=dict)
    path: dict[str, _PathAcc] = field(default_factory=dict)
    errors: dict[tuple[str, str], _ErrorAcc] = field(default_factory=dict)
    timings: dict[str, list[int]] = field(
        default_factory=lambda: {name: [0, 0, 0] for name in TIMINGS})  # count, total, max
    minutes: dict[int, list[int]] = field(default_factory=dict)  # minute -> [reads, saved]
    seen: set[str] = field(default_factory=set)
    seen_order: deque[str] = field(default_factory=deque)

    def _fresh(self, event_id: str) -> bool:
        """False if ``event_id`` was counted already; remembers it otherwise."""
        if not event_id:
            return True
        if event_id in self.seen:
            self.duplicates += 1
            return False
        self.seen.add(event_id)
        self.seen_order.append(event_id)
        if len(self.seen_order) > DEDUPE_WINDOW:
            self.seen.discard(self.seen_order.popleft())
        return True

    def add(self, events: Iterable[AccessEvent]) -> list[AccessEvent]:
        """Fold events in; returns those counted (duplicates left out)."""
        counted: list[AccessEvent] = []
        minutes = self.minutes
        dups = self.duplicates
        for ev in events:
            if not self._fresh(ev.event_id):
                continue
            counted.append(ev)
            deliv = ev.delivered_tokens
            self.reads += 1
            self.backend += ev.backend
            self.original_tokens += ev.original_tokens
            self.compressed_tokens += ev.compressed_tokens
            self.delivered_tokens += deliv
            ts = ev.ts
            if self.first_ts is None or ts < self.first_ts:
                self.first_ts = ts
            if self.last_ts is None or ts > self.last_ts:
                self.last_ts = ts
            if ev.integration:
                _bump(self.integration, ev.integration, ev, deliv)
            if ev.outcome:
                _bump(self.outcome, ev.outcome, ev, deliv)
            _bump(self.cache_source, ev.cache_source or UNKNOWN, ev, deliv)
            if ev.strategy:
                _bump(self.strategy, ev.strategy, ev, deliv)
            _bump(self.origin, ev.origin, ev, deliv)
            _bump(self.session, ev.session, ev, deliv)
            if ev.path:
                acc = self.path.get(ev.path)
                if acc is None:
                    acc = self.path[ev.path] = _PathAcc(ev.source_uri)
                acc.events += 1
                acc.total_tokens += ev.original_tokens
            if ev.outcome in FAILED or ev.error_msg:
                self._error(ev)
            for name, value in (("latency_ms", ev.latency_ms), ("fetch_ms", ev.fetch_ms),
                                ("compression_ms", ev.compression_ms)):
                if value > 0:
                    t = self.timings[name]
                    t[0] += 1
                    t[1] += value
                    if value > t[2]:
                        t[2] = value
            minute = ts // 60_000
            point = minutes.get(minute)
            if point is None:
                point = minutes[minute] = [0, 0]
            point[0] += 1
            point[1] += ev.original_tokens - deliv
        if counted or self.duplicates != dups:
            self.version += 1
            if len(minutes) > MINUTES + MINUTES // 8:  # prune in steps, not per event
                for m in sorted(minutes)[: len(minutes) - MINUTES]:
                    del minutes[m]
        return counted

    def _error(self, ev: AccessEvent) -> None:
        self.failed += 1
        key = (ev.outcome, ev.error_msg)
        if key not in self.errors and len(self.errors) >= MAX_MESSAGES:
            key = (ev.outcome, OTHER_MESSAGES)
        acc = self.errors.get(key)
        if acc is None:
            acc = self.errors[key] = _ErrorAcc(0, ev.ts, ev.path)
        acc.count += 1
        if ev.ts >= acc.last_ts:
            acc.last_ts, acc.last_path = ev.ts, ev.path

    def reset(self) -> None:
        """Forget everything (the file was truncated or rewritten)."""
        version = self.version
        self.__init__()  # type: ignore[misc]
        self.version = version + 1

    def snapshot(self, top: int = TOP_PATHS) -> AccessSnapshot:
        def groups(table: dict[str, list[int]]) -> tuple[Group, ...]:
            rows = sorted(table.items(), key=lambda kv: (-kv[1][_READS], kv[0]))
            return tuple(Group(k, *v) for k, v in rows)

        best = heapq.nsmallest(top, self.path.items(),
                               key=lambda kv: (-kv[1].total_tokens, -kv[1].events, kv[0]))
        errors = sorted(self.errors.items(), key=lambda kv: (-kv[1].count, kv[0]))
        return AccessSnapshot(
            reads=self.reads,
            backend_reads=self.backend,
            original_tokens=self.original_tokens,
            compressed_tokens=self.compressed_tokens,
            delivered_tokens=self.delivered_tokens,
            first_ts=self.first_ts,
            last_ts=self.last_ts,
            by_integration=groups(self.integration),
            by_outcome=groups(self.outcome),
            by_cache_source=groups(self.cache_source),
            by_strategy=groups(self.strategy),
            by_origin=groups(self.origin),
            sessions=groups(self.session),
            top_paths=tuple(PathStat(k, a.source_uri, a.events, a.total_tokens)
                            for k, a in best),
            paths=len(self.path),
            errors=tuple(ErrorStat(o, m, a.count, a.last_ts, a.last_path)
                         for (o, m), a in errors),
            failed_reads=self.failed,
            timings=tuple(Timing(name, *self.timings[name]) for name in TIMINGS),
            duplicates=self.duplicates,
            per_minute=tuple(MinutePoint(m, r, s) for m, (r, s) in sorted(self.minutes.items())),
            version=self.version,
        )
