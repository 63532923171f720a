"""The local event ring (tokentop.store.events.stream) against a plain model of DESIGN 2.4.

The model is the list of every envelope ever published and, per reader, the next seq
it wants: ``oldest = max(1, published - capacity + 1)``; a reader below ``oldest`` gets
``dropped = oldest - next`` and moves to ``oldest``; otherwise it gets ``published[next]``.
Hypothesis drives random capacities, publishes (some above ``max_bytes``), readers
created at any ``after_seq``, single and bulk reads, and compares every result.
"""

from __future__ import annotations

import asyncio
import threading
import time

import msgspec
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
)

from tokentop.store.events.model import Envelope, Event, Marker
from tokentop.store.events.stream import EventStream, ReadResult

MAX_BYTES = 1_000


def envelope(i: int, size: int = 10, data: bytes | None = None) -> Envelope:
    raw = msgspec.Raw(data if data is not None else b'{"i":%d}' % i)
    return Envelope(Event(ts=i, type="console_log", category="console", data=raw),
                    upstream_seq=i, size=size)


class ModelReader:
    def __init__(self, nxt: int) -> None:
        self.next = nxt
        self.dropped_total = 0


class RingMachine(RuleBasedStateMachine):
    readers = Bundle("readers")

    @initialize(capacity=st.integers(1, 9))
    def setup(self, capacity: int) -> None:
        self.stream = EventStream(capacity=capacity, max_bytes=MAX_BYTES)
        self.capacity = capacity
        self.published: list[Envelope] = []  # what was passed to publish, in order
        self.stored: list[Envelope] = []  # what publish returned

    def oldest(self) -> int:
        return max(1, len(self.published) - self.capacity + 1)

    @rule(size=st.sampled_from([0, 1, 500, MAX_BYTES, MAX_BYTES + 1, 5 * MAX_BYTES]),
          upstream_truncated=st.booleans())
    def publish(self, size: int, upstream_truncated: bool) -> None:
        i = len(self.published) + 1
        env = envelope(i, size)
        if upstream_truncated:
            env = Envelope(msgspec.structs.replace(env.event, truncated=True,
                                                   data=msgspec.Raw(b"null")),
                           upstream_seq=i, size=size)
        stored = self.stream.publish(env)
        assert stored.seq == i
        assert stored.upstream_seq == env.upstream_seq and stored.size == env.size
        if size > MAX_BYTES:
            assert bytes(stored.event.data) == b"null" and stored.event.truncated
            assert not stored.event.has_data
        else:
            assert stored.event == env.event
        assert stored.event.ts == env.event.ts and stored.event.type == env.event.type
        self.published.append(env)
        self.stored.append(stored)

    @rule(target=readers, after=st.integers(0, 40))
    def new_reader(self, after: int):
        r = self.stream.new_reader(after)
        m = ModelReader(after + 1 if after else self.oldest())
        assert r.next_seq == m.next
        return (r, m)

    def model_read(self, m: ModelReader) -> ReadResult | None:
        latest = len(self.published)
        if m.next > latest:
            return None
        if m.next < self.oldest():
            d = self.oldest() - m.next
            m.next = self.oldest()
            m.dropped_total += d
            return ReadResult(dropped=d)
        env = self.stored[m.next - 1]
        m.next += 1
        return ReadResult(envelope=env)

    @staticmethod
    def check_one(got: ReadResult | None, want: ReadResult | None) -> None:
        if want is None:
            assert got is None
            return
        assert got is not None
        assert (got.envelope is None) != (got.dropped == 0), got  # exactly one of
        assert got.dropped == want.dropped
        if want.envelope is not None:
            assert got.envelope is want.envelope

    @rule(pair=readers)
    def try_read(self, pair) -> None:
        r, m = pair
        self.check_one(r.try_read(), self.model_read(m))
        assert r.next_seq == m.next and r.dropped_total == m.dropped_total

    @rule(pair=readers, n=st.integers(0, 12))
    def read_many(self, pair, n: int) -> None:
        r, m = pair
        got = r.read_many(n)
        want = []
        while len(want) < n:
            w = self.model_read(m)
            if w is None:
                break
            want.append(w)
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            self.check_one(g, w)
        assert r.next_seq == m.next and r.dropped_total == m.dropped_total

    @precondition(lambda self: len(self.published) > 0)
    @rule(pair=consumes(readers))
    def read_blocking_available(self, pair) -> None:
        r, m = pair
        want = self.model_read(m)
        got = r.read_blocking(timeout=0)
        self.check_one(got, want)

    @rule(seq=st.integers(-1, 45))
    def get(self, seq: int) -> None:
        want = None
        if self.oldest() <= seq <= len(self.published) and seq >= 1:
            want = self.stored[seq - 1]
        assert self.stream.get(seq) is want

    @invariant()
    def counters(self) -> None:
        if hasattr(self, "stream"):
            assert self.stream.seq == len(self.published)
            assert self.stream.oldest == self.oldest()


RingMachine.TestCase.settings = settings(
    max_examples=300, stateful_step_count=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRing = RingMachine.TestCase


# -- plain cases -------------------------------------------------------------------------


def test_drop_then_oldest_then_caught_up() -> None:
    s = EventStream(capacity=4)
    r = s.new_reader()
    for i in range(1, 11):
        s.publish(envelope(i))
    assert s.seq == 10 and s.oldest == 7
    assert r.try_read() == ReadResult(dropped=6)
    assert r.next_seq == 7
    got = [x.envelope.seq for x in r.read_many(10) if x.envelope]
    assert got == [7, 8, 9, 10]
    assert r.try_read() is None
    assert r.dropped_total == 6


def test_new_reader_after_seq_resumes_after_it() -> None:
    s = EventStream(capacity=8)
    for i in range(1, 6):
        s.publish(envelope(i))
    r = s.new_reader(3)
    assert [x.envelope.seq for x in r.read_many(9) if x.envelope] == [4, 5]
    ahead = s.new_reader(7)  # beyond the end: waits for 8
    s.publish(envelope(6))
    s.publish(envelope(7))
    assert ahead.try_read() is None
    s.publish(envelope(8))
    res = ahead.try_read()
    assert res is not None and res.envelope is not None and res.envelope.seq == 8


def test_marker_and_upstream_seq_survive_publish() -> None:
    s = EventStream()
    m = Marker("upstream", dropped=3, from_seq=2, to_seq=4)
    env = Envelope(Event(type="page_load"), upstream_seq=5, size=40, marker=m)
    stored = s.publish(env)
    assert stored.marker == m and stored.upstream_seq == 5 and stored.seq == 1


def test_unknown_size_is_judged_on_data() -> None:
    s = EventStream(max_bytes=100)
    big = s.publish(envelope(1, size=0, data=b'"' + b"x" * 200 + b'"'))
    small = s.publish(envelope(2, size=0))
    assert big.event.truncated and not big.event.has_data
    assert not small.event.truncated and small.event.has_data


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        EventStream(capacity=0)


# -- threads and asyncio -----------------------------------------------------------------


def wait_until(cond, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.001)


async def collect(reader, total: int) -> tuple[list[int], int]:
    """Read until the envelope with local seq ``total``; (seqs read, drops summed)."""
    seqs: list[int] = []
    dropped = 0
    while not seqs or seqs[-1] < total:
        r = await asyncio.wait_for(reader.read(), timeout=10)
        assert (r.envelope is None) != (r.dropped == 0)
        if r.envelope is not None:
            seqs.append(r.envelope.seq)
        else:
            dropped += r.dropped
    return seqs, dropped


@pytest.mark.parametrize("capacity", [16, 100_000])
async def test_asyncio_reader_follows_a_publishing_thread(capacity: int) -> None:
    total = 20_000
    s = EventStream(capacity=capacity)
    r = s.new_reader()

    def publisher() -> None:
        for i in range(1, total + 1):
            s.publish(envelope(i))

    t = threading.Thread(target=publisher)
    t.start()
    try:
        seqs, dropped = await collect(r, total)
    finally:
        t.join()
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert len(seqs) + dropped == total
    assert r.dropped_total == dropped
    if capacity >= total:
        assert dropped == 0 and seqs == list(range(1, total + 1))


async def test_waiting_reader_wakes_promptly_on_another_threads_publish() -> None:
    s = EventStream()
    r = s.new_reader()
    woke: list[float] = []
    for i in range(1, 21):
        task = asyncio.create_task(r.read())
        # The publisher waits until the reader is parked, then publishes.
        sent: list[float] = []

        def publisher(i: int = i, sent: list[float] = sent) -> None:
            wait_until(lambda: s.waiting == 1)
            sent.append(time.perf_counter())
            s.publish(envelope(i))

        t = threading.Thread(target=publisher)
        t.start()
        res = await asyncio.wait_for(task, timeout=5)
        woke.append(time.perf_counter() - sent[0])
        t.join()
        assert res.envelope is not None and res.envelope.seq == i
        assert s.waiting == 0
    assert max(woke) < 0.5, woke


async def test_read_is_cancellation_safe() -> None:
    s = EventStream()
    r = s.new_reader()
    task = asyncio.create_task(r.read())
    await asyncio.sleep(0)  # let it park (one loop turn, no time involved)
    assert s.waiting == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert s.waiting == 0 and r.next_seq == 1
    s.publish(envelope(1))
    res = await asyncio.wait_for(r.read(), timeout=5)
    assert res.envelope is not None and res.envelope.seq == 1


async def test_two_loops_two_readers() -> None:
    """A reader on another thread's loop and one here both wake on one publish."""
    s = EventStream()
    here = s.new_reader()
    there = s.new_reader()
    got: list[int] = []

    def other_loop() -> None:
        res = asyncio.run(asyncio.wait_for(there.read(), timeout=5))
        got.append(res.envelope.seq if res.envelope else -1)

    t = threading.Thread(target=other_loop)
    t.start()
    task = asyncio.create_task(here.read())
    await asyncio.sleep(0)
    wait_until(lambda: s.waiting == 2)
    s.publish(envelope(1))
    res = await asyncio.wait_for(task, timeout=5)
    t.join(5)
    assert res.envelope is not None and res.envelope.seq == 1 and got == [1]


def test_read_blocking_from_a_thread() -> None:
    total = 5_000
    s = EventStream(capacity=64)
    r = s.new_reader()
    seqs: list[int] = []
    dropped = [0]

    def consumer() -> None:
        while not seqs or seqs[-1] < total:
            res = r.read_blocking(timeout=10)
            assert res is not None
            if res.envelope is not None:
                seqs.append(res.envelope.seq)
            else:
                dropped[0] += res.dropped

    t = threading.Thread(target=consumer)
    t.start()
    for i in range(1, total + 1):
        s.publish(envelope(i))
    t.join(20)
    assert not t.is_alive()
    assert len(seqs) + dropped[0] == total and seqs == sorted(seqs)
    assert r.read_blocking(timeout=0.01) is None
    assert s.waiting == 0
