"""The local event ring (DESIGN 2.4, seed 002 ``EventStream``): one writer side that
never waits, any number of independent readers that may fall behind.

Envelope ``seq`` goes to slot ``seq % capacity``. A reader remembers only the next
seq it wants. When that seq has been overwritten (``next < oldest``) the reader gets
one ``ReadResult(dropped=oldest - next)`` and jumps to ``oldest``; the next read is
the envelope at ``oldest``. Drops are never published into the ring: a slow reader
would lose the drop notice the same way it lost the events.

Publishing takes a lock only to assign the seq and write the slot. Readers take no
lock to read: a slot is read and its envelope's ``seq`` checked, so an envelope that
was overwritten between the two is noticed and re-evaluated as a drop. A reader that
has caught up registers a one-shot waker (an asyncio future resolved through its
loop's ``call_soon_threadsafe``, or a ``threading.Event``); ``publish`` takes the
wakers registered so far and fires them after releasing the lock, so publishing
never waits for a reader, whichever thread or loop it lives in.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from tokentop.store.events.model import DEFAULT_CAPACITY, MAX_ENVELOPE_BYTES, NULL, Envelope

Waker = Callable[[], None]


@dataclass(frozen=True, slots=True)
class ReadResult:
    """One read: exactly one of ``envelope`` / ``dropped`` is set."""

    envelope: Envelope | None = None
    dropped: int = 0


class EventStream:
    """The process-lifetime ring of envelopes and its local seq counter."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY,
                 max_bytes: int = MAX_ENVELOPE_BYTES) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._slots: list[Envelope | None] = [None] * capacity
        self._seq = 0
        self._lock = threading.Lock()
        self._wakers: list[Waker] = []

    # -- writer ------------------------------------------------------------------------

    def publish(self, env: Envelope) -> Envelope:
        """Store ``env`` under the next local seq and return the stored copy.

        Thread-safe and never blocks on readers. An envelope whose ``size`` (bytes as
        received) exceeds ``max_bytes`` is stored with ``data: null, truncated: true``
        (``size`` keeps the received size). An envelope with ``size == 0`` (unknown) is
        judged on its ``data`` length alone.
        """
        ev = env.event
        size = env.size or len(ev.data)
        if size > self.max_bytes:
            ev = msgspec.structs.replace(ev, data=msgspec.Raw(NULL), truncated=True)
        with self._lock:
            seq = self._seq + 1
            # A direct construction costs half of ``msgspec.structs.replace``.
            stored = Envelope(ev, seq, env.upstream_seq, env.size, env.marker)
            self._slots[seq % self.capacity] = stored
            self._seq = seq  # after the slot: a reader that sees seq finds its slot written
            wakers: list[Waker] | None = self._wakers
            if wakers:
                self._wakers = []
            else:
                wakers = None  # not the live list: a reader may add to it from now on
        if wakers:
            for wake in wakers:
                wake()
        return stored

    # -- state -------------------------------------------------------------------------

    @property
    def seq(self) -> int:
        """The last published seq, 0 if none."""
        return self._seq

    @property
    def oldest(self) -> int:
        """The oldest seq still buffered (1 before anything is published)."""
        return max(1, self._seq - self.capacity + 1)

    def get(self, seq: int) -> Envelope | None:
        """The buffered envelope with this local seq, None if evicted or not published."""
        if seq < 1 or seq > self._seq:
            return None
        env = self._slots[seq % self.capacity]
        return env if env is not None and env.seq == seq else None

    def new_reader(self, after_seq: int = 0) -> Reader:
        """A reader positioned after ``after_seq``; 0 starts from the oldest buffered."""
        return Reader(self, after_seq + 1 if after_seq > 0 else self.oldest)

    # -- wakers ------------------------------------------------------------------------

    def _arm(self, next_seq: int, wake: Waker) -> bool:
        """Register ``wake`` for the next publish unless ``next_seq`` is already there."""
        with self._lock:
            if self._seq >= next_seq:
                return False
            self._wakers.append(wake)
            return True

    def _disarm(self, wake: Waker) -> None:
        with self._lock, contextlib.suppress(ValueError):  # already taken by a publish
            self._wakers.remove(wake)

    @property
    def waiting(self) -> int:
        """Readers currently waiting for the next publish (for tests and diagnostics)."""
        return len(self._wakers)


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class Reader:
    """An independent read position in an :class:`EventStream`.

    One reader is meant for one consumer (one task or one thread) at a time.
    """

    def __init__(self, stream: EventStream, next_seq: int) -> None:
        self._stream = stream
        self._next = next_seq
        self.dropped_total = 0  # sum of every dropped result returned ("viewer dropped")

    @property
    def next_seq(self) -> int:
        return self._next

    @property
    def stream(self) -> EventStream:
        return self._stream

    def try_read(self) -> ReadResult | None:
        """The next result without waiting; None when caught up."""
        stream = self._stream
        cap = stream.capacity
        nxt = self._next
        while True:
            latest = stream._seq
            if nxt > latest:
                return None
            oldest = latest - cap + 1
            if nxt < oldest:
                dropped = oldest - nxt
                self._next = oldest
                self.dropped_total += dropped
                return ReadResult(dropped=dropped)
            env = stream._slots[nxt % cap]
            if env is not None and env.seq == nxt:
                self._next = nxt + 1
                return ReadResult(envelope=env)
            # Overwritten after ``latest`` was read: look again, it is now a drop.

    def read_many(self, max_n: int) -> list[ReadResult]:
        """Up to ``max_n`` results without waiting (a drop result where it occurred)."""
        out: list[ReadResult] = []
        append = out.append
        stream = self._stream
        cap = stream.capacity
        slots = stream._slots
        nxt = self._next
        left = max_n
        while left > 0:  # try_read, inlined: this is the UI's per-tick path
            latest = stream._seq
            if nxt > latest:
                break
            oldest = latest - cap + 1
            if nxt < oldest:
                dropped = oldest - nxt
                nxt = oldest
                self.dropped_total += dropped
                append(ReadResult(dropped=dropped))
                left -= 1
                continue
            env = slots[nxt % cap]
            if env is not None and env.seq == nxt:
                append(ReadResult(envelope=env))
                nxt += 1
                left -= 1
        self._next = nxt
        return out

    async def read(self) -> ReadResult:
        """The next result, waiting for a publish from any thread. Cancellation-safe:
        the position only moves when a result is returned."""
        while True:
            r = self.try_read()
            if r is not None:
                return r
            loop = asyncio.get_running_loop()
            fut: asyncio.Future[None] = loop.create_future()

            def wake(loop: asyncio.AbstractEventLoop = loop,
                     fut: asyncio.Future[None] = fut) -> None:
                # A closed loop raises RuntimeError: nobody is waiting any more.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_resolve, fut)

            if not self._stream._arm(self._next, wake):
                continue
            try:
                await fut
            finally:
                # Cancelled (the task cancels ``fut`` too): take the waker back.
                if fut.cancelled():
                    self._stream._disarm(wake)

    def read_blocking(self, timeout: float | None = None) -> ReadResult | None:
        """The next result, waiting at most ``timeout`` seconds (None: forever) for a
        publish; None on timeout. For consumers on a plain thread."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            r = self.try_read()
            if r is not None:
                return r
            event = threading.Event()
            if not self._stream._arm(self._next, event.set):
                continue
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                self._stream._disarm(event.set)
                return None
            if not event.wait(remaining):
                self._stream._disarm(event.set)
                return self.try_read()
