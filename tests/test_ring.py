"""The per-minute ring: keyed by minute, any arrival order, bounded, eviction visible."""

from __future__ import annotations

import pytest

from tokentop.store.metrics.query import window
from tokentop.store.ring import FLEET, MinuteRing

T0 = 483_334 * 60  # an arbitrary minute on an hour boundary


def test_out_of_order_lines_land_in_their_minute() -> None:
    ring = MinuteRing(100)
    ring.add("a/x", T0 + 5, 10, 1, 100)
    ring.add("a/x", T0 + 2, 20, 2, 200)  # older line arrives later
    ring.add("a/x", T0 + 5, 1, 1, 1)
    pts = ring.buckets("a/x", T0, T0 + 10)
    assert [(p.minute, p.input_tokens, p.output_tokens, p.cost_micro_usd) for p in pts] == [
        (T0 + 2, 20, 2, 200),
        (T0 + 5, 11, 2, 101),
    ]


def test_fleet_sums_servers() -> None:
    ring = MinuteRing(100)
    ring.add("a/x", T0, 1, 2, 3)
    ring.add("b/x", T0, 10, 20, 30)
    (p,) = ring.buckets(None, T0, T0)
    assert (p.input_tokens, p.output_tokens, p.cost_micro_usd) == (11, 22, 33)
    assert ring.servers() == ["a/x", "b/x"]
    assert FLEET not in ring.servers()


def test_eviction_is_bounded_and_visible() -> None:
    ring = MinuteRing(10)
    ring.add("s", T0, 1, 0, 0)
    assert ring.oldest_minute() == T0
    assert not ring.evicted()
    ring.add("s", T0 + 15, 2, 0, 0)  # pushes T0 out of a 10-minute window
    assert ring.evicted()
    assert ring.oldest_minute() == T0 + 15
    assert ring.buckets("s", T0 - 100, T0 + 100) == ring.buckets("s", T0 + 6, T0 + 15)
    assert [p.input_tokens for p in ring.buckets("s", T0 - 100, T0 + 100)] == [2]
    ring.add("s", T0 + 1, 5, 0, 0)  # too old for the window: refused, counted
    assert ring.too_old == 1
    assert sum(p.input_tokens for p in ring.buckets("s", T0 - 100, T0 + 100)) == 2


def test_slot_reuse_does_not_leak_old_minute() -> None:
    ring = MinuteRing(10)
    ring.add("s", T0, 7, 0, 0)
    ring.add("s", T0 + 10, 3, 0, 0)  # same slot as T0
    assert [(p.minute, p.input_tokens) for p in ring.buckets("s", T0, T0 + 10)] == [(T0 + 10, 3)]


def test_hourly_buckets_align_to_utc_hours() -> None:
    ring = MinuteRing(24 * 60)
    ring.add("s", T0 + 59, 1, 0, 0)
    ring.add("s", T0 + 60, 2, 0, 0)
    ring.add("s", T0 + 61, 3, 0, 0)
    pts = ring.buckets("s", T0, T0 + 119, interval=60)
    assert [(p.minute, p.input_tokens) for p in pts] == [(T0, 1), (T0 + 60, 5)]
    dense = ring.buckets("s", T0 - 60, T0 + 119, interval=60, dense=True)
    assert [p.input_tokens for p in dense] == [0, 1, 5]


@pytest.mark.parametrize(
    ("name", "length", "interval"),
    [("30m", 30, 1), ("1h", 60, 1), ("6h", 360, 1), ("24h", 1440, 60), ("7d", 10080, 60)],
)
def test_named_ranges(name: str, length: int, interval: int) -> None:
    ring = MinuteRing()
    until = T0 + 90  # 1h30 past an hour boundary
    w = window(ring, name, until)
    assert w.interval == interval
    assert w.end - w.start + 1 == length
    # every range is rolling (issue 17): the last ``length`` minutes up to and with ``until``
    assert w.end == until


def test_all_range_covers_every_retained_minute() -> None:
    ring = MinuteRing(1000)
    ring.add("s", T0, 1, 0, 0)
    ring.add("s", T0 + 500, 1, 0, 0)
    w = window(ring, "all", None)
    assert (w.start, w.end, w.interval) == (T0, T0 + 500, 1)
    assert len(ring.buckets(None, w.start, w.end)) == 2


def test_total_over_range() -> None:
    ring = MinuteRing(1000)
    for m in range(T0, T0 + 90):
        ring.add("s", m, 1, 2, 3)
    t = ring.total("s", T0 + 30, T0 + 89)
    assert (t.input_tokens, t.output_tokens, t.cost_micro_usd) == (60, 120, 180)
