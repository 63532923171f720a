"""The per-minute time-series ring: tokens and cost per UTC minute, per server and fleet.

gridctl keeps the same shape in memory (1-minute buckets) but can only seed the last
500 lines after a restart. tokentop replays the whole retained history, so the ring has
to take lines in any order: a slot is addressed by ``minute % capacity`` and carries
the minute it holds, so a late line lands in its own minute instead of being appended
to the newest one, and a slot whose minute fell out of the window is simply stale.
Eviction is therefore O(1) and lazy; queries only trust slots whose key is in range.

Minutes are integers: seconds since the Unix epoch divided by 60 (UTC).
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

FLEET = "*"
"""Series name of the fleet: the sum over every server."""

DEFAULT_CAPACITY_MINUTES = 7 * 24 * 60
SATURATED = 2**62  # a slot's sum stops here instead of overflowing its int64


@dataclass(frozen=True, slots=True)
class Point:
    """One bucket of a query: its start minute and what happened in it."""

    minute: int
    input_tokens: int
    output_tokens: int
    cost_micro_usd: int

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class _Series:
    """Four parallel arrays, one slot per minute of the window."""

    __slots__ = ("cost", "inp", "key", "out")

    def __init__(self, capacity: int) -> None:
        self.key = array("q", [-1]) * capacity
        self.inp = array("q", [0]) * capacity
        self.out = array("q", [0]) * capacity
        self.cost = array("q", [0]) * capacity


class MinuteRing:
    """Dense, minute-keyed ring of token and cost buckets.

    Writers and readers may be on different threads (the replay runs in a worker
    thread while the UI queries): every public method takes the ring's lock, and
    ``add_buckets`` lets a writer pay for the lock once per batch.
    """

    def __init__(self, capacity_minutes: int = DEFAULT_CAPACITY_MINUTES) -> None:
        if capacity_minutes < 1:
            raise ValueError("ring capacity must be at least one minute")
        self.capacity = capacity_minutes
        self._series: dict[str, _Series] = {FLEET: _Series(capacity_minutes)}
        self._head = -1  # newest minute written
        self._first = -1  # oldest minute ever written (before eviction)
        self.too_old = 0  # points that arrived already outside the window
        self.version = 0  # bumped on every change; readers poll it to know when to redraw
        self.lock = threading.RLock()

    # -- writing -----------------------------------------------------------------
    def add(self, server: str, minute: int, inp: int, out: int, cost: int) -> None:
        self.add_buckets(server, {minute: (inp, out, cost)})

    def add_buckets(self, server: str, buckets: Mapping[int, Sequence[int]]) -> None:
        """Add ``{minute: (input, output, cost)}`` of one server under one lock.

        The replay hot path: it pre-sums a batch per minute and lands it here, so this
        loop is kept flat (locals, no per-point calls).
        """
        with self.lock:
            cap = self.capacity
            series = self._series.get(server)
            if series is None:
                series = self._series[server] = _Series(cap)
            sk, si, so, sc = series.key, series.inp, series.out, series.cost
            fleet = self._series[FLEET]
            fk, fi, fo, fc = fleet.key, fleet.inp, fleet.out, fleet.cost
            if not buckets:
                return
            # Head, eviction floor and oldest minute once per batch, not per point.
            head = max(self._head, max(buckets))
            floor = head - cap
            items: Iterable[tuple[int, Sequence[int]]] = buckets.items()
            if min(buckets) <= floor:
                kept = [(m, b) for m, b in items if m > floor]
                self.too_old += len(buckets) - len(kept)
                items = kept
                if not kept:
                    self._head = head
                    return
                low = min(m for m, _ in kept)
            else:
                low = min(buckets)
            first = low if self._first < 0 else min(self._first, low)
            for minute, (inp, out, cost) in items:
                if inp > SATURATED or out > SATURATED or cost > SATURATED:
                    inp, out, cost = (min(v, SATURATED) for v in (inp, out, cost))
                slot = minute % cap
                if sk[slot] != minute:
                    sk[slot] = minute
                    si[slot] = inp
                    so[slot] = out
                    sc[slot] = cost
                else:
                    # a sum saturates rather than overflow the 64-bit slot (a conditional,
                    # not min(): this runs for every point of a replay)
                    v = si[slot] + inp
                    si[slot] = v if v < SATURATED else SATURATED
                    v = so[slot] + out
                    so[slot] = v if v < SATURATED else SATURATED
                    v = sc[slot] + cost
                    sc[slot] = v if v < SATURATED else SATURATED
                if fk[slot] != minute:
                    fk[slot] = minute
                    fi[slot] = inp
                    fo[slot] = out
                    fc[slot] = cost
                else:
                    v = fi[slot] + inp
                    fi[slot] = v if v < SATURATED else SATURATED
                    v = fo[slot] + out
                    fo[slot] = v if v < SATURATED else SATURATED
                    v = fc[slot] + cost
                    fc[slot] = v if v < SATURATED else SATURATED
            self._head, self._first = head, first
            self.version += 1

    def touch_server(self, server: str) -> None:
        """Make a server known before it has any activity (it still gets a row)."""
        with self.lock:
            if server not in self._series:
                self._series[server] = _Series(self.capacity)
                self.version += 1

    # -- reading -----------------------------------------------------------------
    @property
    def head(self) -> int | None:
        """Newest minute written, or None when the ring is empty."""
        return self._head if self._head >= 0 else None

    def servers(self) -> list[str]:
        with self.lock:
            return sorted(s for s in self._series if s != FLEET)

    def oldest_minute(self) -> int | None:
        """Oldest minute still retained that holds data: what "persisted from" shows."""
        with self.lock:
            if self._head < 0:
                return None
            low = self._head - self.capacity + 1
            if self._first >= low:
                return self._first
            keys = self._series[FLEET].key
            retained = [k for k in keys if k >= low]
            return min(retained) if retained else None

    def evicted(self) -> bool:
        """True once minutes have fallen out of the window."""
        with self.lock:
            return self.too_old > 0 or (
                self._head >= 0 and self._first <= self._head - self.capacity
            )

    def buckets(
        self,
        server: str | None,
        start: int,
        end: int,
        interval: int = 1,
        dense: bool = False,
    ) -> list[Point]:
        """Buckets covering minutes ``start..end`` inclusive, ``interval`` minutes each.

        Buckets are aligned to multiples of ``interval`` (so 60 gives UTC hours). With
        ``dense`` every bucket is returned (for charts); otherwise only active ones.
        """
        name = FLEET if server is None else server
        with self.lock:
            series = self._series.get(name)
            low = max(start, self._head - self.capacity + 1) if self._head >= 0 else start
            first_bucket = start - start % interval
            nb = (end - end % interval - first_bucket) // interval + 1 if end >= start else 0
            inp = [0] * nb
            out = [0] * nb
            cost = [0] * nb
            active = [False] * nb
            if series is not None and self._head >= 0:
                cap = self.capacity
                key = series.key
                span_start = max(low, start)
                span_end = min(end, self._head)
                if span_end - span_start + 1 > cap:
                    span_start = span_end - cap + 1
                for minute in range(span_start, span_end + 1):
                    slot = minute % cap
                    if key[slot] != minute:
                        continue
                    b = (minute - first_bucket) // interval
                    inp[b] += series.inp[slot]
                    out[b] += series.out[slot]
                    cost[b] += series.cost[slot]
                    active[b] = True
        return [
            Point(first_bucket + b * interval, inp[b], out[b], cost[b])
            for b in range(nb)
            if dense or active[b]
        ]

    def total(self, server: str | None, start: int, end: int) -> Point:
        """Sum of one series over minutes ``start..end`` inclusive."""
        i = o = c = 0
        for p in self.buckets(server, start, end, interval=max(1, end - start + 1)):
            i += p.input_tokens
            o += p.output_tokens
            c += p.cost_micro_usd
        return Point(start, i, o, c)
