"""The running summary of an access-event log, kept up to date one batch at a time.

``AccessSummary.add`` folds events into counters (totals, per integration, outcome and
cache source, per path, per minute); nothing is re-read when the file grows, so a
followed log costs what its new lines cost. ``snapshot`` freezes what a reader needs
(the screen four times a second at most, the CLI once) into an ``AccessSnapshot``,
whose ``to_dict`` is the JSON of ``tokentop access FILE --json``.

The per-minute series keeps the most recent ``MINUTES`` minutes that have events
(a week): enough for any chart, bounded however long the log.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tokentop.store.access.event import AccessEvent

MINUTES = 7 * 24 * 60
TOP_PATHS = 10
NONE_KEY = "(none)"  # how an empty integration or cache source is named


@dataclass(frozen=True)
class Group:
    """The reads of one integration, outcome, cache source or path."""

    name: str
    reads: int
    cache_served: int
    original_tokens: int
    compressed_tokens: int  # tokens delivered to the agent
    tokens_saved: int

    def to_dict(self) -> dict[str, int]:
        return {"reads": self.reads, "cache_served_reads": self.cache_served,
                "original_tokens": self.original_tokens,
                "compressed_tokens": self.compressed_tokens,
                "tokens_saved": self.tokens_saved}


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
    cache_served_reads: int = 0
    original_tokens: int = 0
    compressed_tokens: int = 0
    original_bytes: int = 0
    compressed_bytes: int = 0
    first_ts: int | None = None  # unix ms
    last_ts: int | None = None
    by_integration: tuple[Group, ...] = ()
    by_outcome: tuple[Group, ...] = ()
    by_cache_source: tuple[Group, ...] = ()
    top_paths: tuple[Group, ...] = ()
    paths: int = 0  # distinct paths read
    per_minute: tuple[MinutePoint, ...] = ()
    version: int = 0  # changes whenever the summary does

    @property
    def tokens_saved(self) -> int:
        return self.original_tokens - self.compressed_tokens

    @property
    def ratio(self) -> float | None:
        """compressed / original tokens (lower is better); None before any tokens."""
        return self.compressed_tokens / self.original_tokens if self.original_tokens else None

    @property
    def cache_served_share(self) -> float | None:
        return self.cache_served_reads / self.reads if self.reads else None

    def to_dict(self) -> dict[str, object]:
        def groups(items: tuple[Group, ...]) -> dict[str, dict[str, int]]:
            return {g.name: g.to_dict() for g in items}

        ratio = self.ratio
        return {
            "reads": self.reads,
            "backend_reads": self.backend_reads,
            "cache_served_reads": self.cache_served_reads,
            "original_tokens": self.original_tokens,
            "compressed_tokens": self.compressed_tokens,
            "ratio": None if ratio is None else round(ratio, 6),
            "tokens_saved": self.tokens_saved,
            "original_bytes": self.original_bytes,
            "compressed_bytes": self.compressed_bytes,
            "first": _iso(self.first_ts),
            "last": _iso(self.last_ts),
            "by_integration": groups(self.by_integration),
            "by_outcome": groups(self.by_outcome),
            "by_cache_source": groups(self.by_cache_source),
            "paths": self.paths,
            "top_paths": [{"path": g.name, **g.to_dict()} for g in self.top_paths],
            "per_minute": [{"minute": _iso(p.minute * 60_000), "reads": p.reads,
                            "tokens_saved": p.tokens_saved} for p in self.per_minute],
        }


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


# Counter slots of a group: reads, cache-served, original, delivered.
_READS, _CACHE, _ORIG, _DELIV = range(4)


@dataclass
class AccessSummary:
    """Mutable counters; not thread-safe by itself (``AccessLog`` holds a lock)."""

    reads: int = 0
    cache_served: int = 0
    original_tokens: int = 0
    compressed_tokens: int = 0
    original_bytes: int = 0
    compressed_bytes: int = 0
    first_ts: int | None = None
    last_ts: int | None = None
    version: int = 0
    integration: dict[str, list[int]] = field(default_factory=dict)
    outcome: dict[str, list[int]] = field(default_factory=dict)
    cache_source: dict[str, list[int]] = field(default_factory=dict)
    path: dict[str, list[int]] = field(default_factory=dict)
    minutes: dict[int, list[int]] = field(default_factory=dict)  # minute -> [reads, saved]

    def add(self, events: Iterable[AccessEvent]) -> int:
        """Fold events in; returns how many."""
        n = 0
        minutes = self.minutes
        for ev in events:
            n += 1
            cache = ev.cache_served
            orig = ev.original_tokens
            deliv = ev.delivered_tokens
            self.reads += 1
            self.cache_served += cache
            self.original_tokens += orig
            self.compressed_tokens += deliv
            self.original_bytes += ev.original_bytes
            self.compressed_bytes += (ev.compressed_bytes if ev.outcome in
                                      ("compressed", "cache_hit") else ev.original_bytes)
            ts = ev.ts
            if self.first_ts is None or ts < self.first_ts:
                self.first_ts = ts
            if self.last_ts is None or ts > self.last_ts:
                self.last_ts = ts
            for table, key in ((self.integration, ev.integration), (self.outcome, ev.outcome),
                               (self.cache_source, ev.cache_source), (self.path, ev.path)):
                slot = table.get(key)
                if slot is None:
                    slot = table[key] = [0, 0, 0, 0]
                slot[_READS] += 1
                slot[_CACHE] += cache
                slot[_ORIG] += orig
                slot[_DELIV] += deliv
            minute = ts // 60_000
            point = minutes.get(minute)
            if point is None:
                point = minutes[minute] = [0, 0]
            point[0] += 1
            point[1] += orig - deliv
        if n:
            self.version += 1
            if len(minutes) > MINUTES + MINUTES // 8:  # prune in steps, not per event
                for m in sorted(minutes)[: len(minutes) - MINUTES]:
                    del minutes[m]
        return n

    def reset(self) -> None:
        """Forget everything (the file was truncated or rewritten)."""
        version = self.version
        self.__init__()  # type: ignore[misc]
        self.version = version + 1

    def snapshot(self, top: int = TOP_PATHS) -> AccessSnapshot:
        def groups(table: dict[str, list[int]]) -> tuple[Group, ...]:
            rows = sorted(table.items(), key=lambda kv: (-kv[1][_READS], kv[0]))
            return tuple(_group(k or NONE_KEY, v) for k, v in rows)

        best = heapq.nsmallest(top, self.path.items(), key=lambda kv: (-kv[1][_READS], kv[0]))
        return AccessSnapshot(
            reads=self.reads,
            backend_reads=self.reads - self.cache_served,
            cache_served_reads=self.cache_served,
            original_tokens=self.original_tokens,
            compressed_tokens=self.compressed_tokens,
            original_bytes=self.original_bytes,
            compressed_bytes=self.compressed_bytes,
            first_ts=self.first_ts,
            last_ts=self.last_ts,
            by_integration=groups(self.integration),
            by_outcome=groups(self.outcome),
            by_cache_source=groups(self.cache_source),
            top_paths=tuple(_group(k or NONE_KEY, v) for k, v in best),
            paths=len(self.path),
            per_minute=tuple(MinutePoint(m, r, s) for m, (r, s) in sorted(self.minutes.items())),
            version=self.version,
        )


def _group(name: str, slot: list[int]) -> Group:
    return Group(name, slot[_READS], slot[_CACHE], slot[_ORIG], slot[_DELIV],
                 slot[_ORIG] - slot[_DELIV])
