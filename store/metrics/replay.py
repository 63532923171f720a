"""Replay semantics of gridctl metrics lines (DESIGN 2.1), applied to a ring and totals.

This is gridctl's SeedFromFile (``pkg/telemetry/metrics.go``) extended to the whole
history: a ``reset`` line's diff is a snapshot, not a minute's activity, so it adds
nothing to the series; a line whose token diff is zero adds no point either (gridctl
writes one whenever only ``tool_usage`` changed, and SeedFromFile skips it), unless an
old file gave it cost; a ``cost_reset`` line adds its tokens but not its cost; the
cumulative totals are those of the last line in file order (a reset sentinel carries
zero totals), the cost total the last one present. Tool usage is the last ``tool_usage``
map in file order, dropped by a ``reset`` line that carries none (SeedFromFile's
``latestTools``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from tokentop.store.metrics.line import ZERO_TOKENS, CostCounts, MetricsLine, TokenCounts, decoder
from tokentop.store.metrics.tools import ToolStat, decode_usage
from tokentop.store.ring import MinuteRing
from tokentop.store.timeparse import utc_minute

# How far past this machine's clock a line may be dated and still land in the ring: a few
# minutes of skew between boxes is normal; days are not.
AHEAD_MINUTES = 60

# "YYYY-MM-DDTHH" of a UTC ("Z") timestamp -> its first minute. Keyed by hour, not
# minute: gridctl writes one line per server per minute, so a minute key would miss on
# almost every line, and each miss builds a datetime.
_HOURS: dict[str, int] = {}


@dataclass
class ServerTotals:
    """Cumulative totals of one server as gridctl last persisted them."""

    tokens: TokenCounts = ZERO_TOKENS
    cost_micro_usd: int | None = None  # None: this server never reported cost
    # The minute of the latest ``reset`` line (a restart: the totals start again from
    # zero) and of the latest ``cost_reset`` (the cost total alone does): where the
    # totals may be smaller than a range's sum, which the UI marks (issue 17).
    reset_minute: int | None = None
    cost_reset_minute: int | None = None


def _latest(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


@dataclass
class ReplayStats:
    files: int = 0  # distinct files read or followed
    lines: int = 0  # lines consumed, blank ones included
    malformed: int = 0  # not JSON, no server, or a bad timestamp: counted and skipped
    blank: int = 0
    truncated_gz: int = 0  # gzip files that ended early and were read as far as they went
    truncations: int = 0  # followed files that shrank or were replaced under the same name
    last_update: float | None = None  # wall time (clock) of the last line consumed
    ahead_of_clock: int = 0  # lines dated past the clock + AHEAD_MINUTES, held aside
    unreadable: set[str] = field(default_factory=set)  # files there but not readable


@dataclass
class MetricsState:
    """Everything the metrics files have told us so far: the ring, totals, counters."""

    ring: MinuteRing = field(default_factory=MinuteRing)
    totals: dict[str, ServerTotals] = field(default_factory=dict)
    # ``stack/server`` -> tool -> cumulative stat, as gridctl would restore it
    tools: dict[str, dict[str, ToolStat]] = field(default_factory=dict)
    # stack -> skill -> cumulative prompts/get stat (the ``__skills__`` writer)
    skills: dict[str, dict[str, ToolStat]] = field(default_factory=dict)
    cost_seen: bool = False  # any line carried cost_*: a file from before gridctl 5245a795
    stats: ReplayStats = field(default_factory=ReplayStats)
    lock: threading.Lock = field(default_factory=threading.Lock)
    clock: Callable[[], float] = time.time
    # Points dated more than AHEAD_MINUTES past the clock (one box's clock skewed by
    # days): in the ring they moved its head and evicted every other server's history
    # from the 7d range and from "all". Held here per server and minute, counted in
    # ``stats.ahead_of_clock``, and moved into the ring once the clock gets there.
    ahead: dict[str, dict[int, list[int]]] = field(default_factory=dict)

    def release_ahead(self) -> None:
        """Move the held points the clock has reached into the ring."""
        if not self.ahead:
            return
        limit = int(self.clock()) // 60 + AHEAD_MINUTES
        with self.lock:
            due: dict[str, dict[int, list[int]]] = {}
            for server, minutes in list(self.ahead.items()):
                ready = {m: v for m, v in minutes.items() if m <= limit}
                if ready:
                    due[server] = ready
                    for m in ready:
                        del minutes[m]
                if not minutes:
                    del self.ahead[server]
        for server, buckets in due.items():
            self.ring.add_buckets(server, buckets)

    def apply(self, server: str, lines: list[bytes]) -> int:
        """Apply a batch of lines of one server, in file order. Returns lines consumed.

        This is the replay hot path (millions of lines): minutes are summed in a local
        dict first, so the ring and its lock are touched once per batch.
        """
        decode = decoder.decode
        hours = _HOURS
        self.release_ahead()
        limit = int(self.clock()) // 60 + AHEAD_MINUTES
        agg: dict[int, list[int]] = {}
        held: dict[int, list[int]] = {}
        held_lines = 0
        malformed = blank = 0
        last: MetricsLine | None = None
        last_cost: CostCounts | None = None
        cost_seen = False
        tools_reset = False  # a reset line in this batch: drop what came before it
        reset_at: int | None = None  # the latest reset line's minute in this batch
        cost_reset_at: int | None = None
        tools_seen: list[msgspec.Raw] = []  # tool_usage maps since, decoded lazily
        last_key: str | None = None
        last_minute = 0
        for raw in lines:
            try:
                line = decode(raw)
            except msgspec.DecodeError:
                if raw.strip():
                    malformed += 1
                else:
                    blank += 1
                continue
            if not line.server:
                malformed += 1
                continue
            ts = line.ts
            # lines of one server come in time order, several often in one minute: the
            # last line's "YYYY-MM-DDTHH:MM" is compared first (UTC "Z" times only)
            key = ts[:16]
            if key == last_key and ts[-1:] == "Z":
                minute = last_minute
            else:
                utc = ts[-1:] == "Z" and ts[13:14] == ":"
                try:
                    hour = hours.get(ts[:13]) if utc else None
                    if hour is not None:
                        mm = int(ts[14:16])
                        if not 0 <= mm < 60:
                            raise ValueError(ts)
                        minute = hour + mm
                    else:
                        minute = utc_minute(ts)
                        if ts[-1:] == "Z":
                            if len(hours) > 100_000:
                                hours.clear()
                            hours[ts[:13]] = minute - minute % 60
                except (ValueError, IndexError):
                    malformed += 1
                    continue
                last_key, last_minute = (key, minute) if utc and ts[16:17] == ":" else (None, 0)
            last = line
            if line.cost_total is not None:
                last_cost = line.cost_total
                cost_seen = True
            if line.reset:
                tools_reset = True
                tools_seen.clear()
                reset_at = minute if reset_at is None else max(reset_at, minute)
            if line.cost_reset:
                cost_reset_at = minute if cost_reset_at is None else max(cost_reset_at, minute)
            tu = line.tool_usage
            if tu and (len(tu) != 4 or bytes(tu) != b"null"):  # Go: null is no map
                tools_seen.append(tu)
            if line.reset:
                continue
            diff = line.diff
            c = line.cost_diff
            cost = (
                0 if c is None or line.cost_reset
                else c.input_micro_usd + c.output_micro_usd + c.cache_read_micro_usd
                + c.cache_write_micro_usd
            )
            if c is not None:
                cost_seen = True
            if diff is None:
                inp = out = 0
            else:
                inp, out = diff.input_tokens, diff.output_tokens
            if not (inp or out or cost):
                continue  # no activity: a tool_usage-only line, or an empty minute
            if minute > limit:  # dated past the clock: held aside (see ``ahead``)
                held_lines += 1
                into = held
            else:
                into = agg
            bucket = into.get(minute)
            if bucket is None:
                into[minute] = [inp, out, cost]
            else:
                bucket[0] += inp
                bucket[1] += out
                bucket[2] += cost
        if agg:
            self.ring.add_buckets(server, agg)
        with self.lock:
            st = self.stats
            st.lines += len(lines)
            st.malformed += malformed
            st.blank += blank
            if held:
                st.ahead_of_clock += held_lines
                mine = self.ahead.setdefault(server, {})
                for m, (i, o, c) in held.items():
                    b = mine.setdefault(m, [0, 0, 0])
                    b[0] += i
                    b[1] += o
                    b[2] += c
            if last is not None:
                totals = self.totals.setdefault(server, ServerTotals())
                totals.tokens = last.total or ZERO_TOKENS
                if last_cost is not None:
                    totals.cost_micro_usd = last_cost.micro_usd
                totals.reset_minute = _latest(totals.reset_minute, reset_at)
                totals.cost_reset_minute = _latest(totals.cost_reset_minute,
                                                   _latest(reset_at, cost_reset_at))
            if cost_seen:
                self.cost_seen = True
            # The latest map that decodes (Go's unmarshal drops a line whose map does not).
            usage = next((u for u in map(decode_usage, reversed(tools_seen)) if u is not None),
                         None)
            if usage:
                self.tools[server] = usage
            elif usage is not None or tools_reset:  # an empty map, or a reset: none
                self.tools.pop(server, None)
        return len(lines)

    def restore_last(self, server: str, line: bytes) -> None:
        """Make ``line`` (already counted) the newest state again: its totals and tool
        map, nothing added to the ring or the counters (``FamilyTail``, a rotation read
        after the newer active file)."""
        try:
            last = decoder.decode(line)
        except msgspec.DecodeError:
            return
        if not last.server:
            return
        with self.lock:
            totals = self.totals.setdefault(server, ServerTotals())
            totals.tokens = last.total or ZERO_TOKENS
            if last.cost_total is not None:
                totals.cost_micro_usd = last.cost_total.micro_usd
            tu = last.tool_usage
            if tu and not (len(tu) == 4 and bytes(tu) == b"null"):
                usage = decode_usage(tu)
                if usage:
                    self.tools[server] = usage

    def apply_tail(self, server: str, tail: bytes) -> None:
        """A finished file's last bytes with no newline: a line if it decodes, else malformed."""
        if tail.strip():
            self.apply(server, [tail])
