"""The demo's live writer: gridctl keeps flushing while the dashboard watches.

Real gridctl flushes once a minute; a demo that moved once a minute would look dead, so
this flushes every active server every second (real wall-clock timestamps), at the
rates of the model the history was drawn from, so the minutes it builds look like the
ones before.
Now and then it restarts a server (reset pair), clears a server's cost (cost reset) or
rotates a file; rotated files are compressed on the next tick, the way lumberjack's
mill goroutine trails the rename, so a follower meets every intermediate state.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from tokentop.tui.demo.gridctl import NS, GridctlWriter, Tokens
from tokentop.tui.demo.gridlogs import live_tick
from tokentop.tui.demo.history import DemoServer

RESTART_PER_TICK = 1 / 240
COST_RESET_PER_TICK = 1 / 180
ROTATE_PER_TICK = 1 / 45


class LiveWriter:
    """Appends a second's worth of lines per active server, every ``interval`` seconds."""

    def __init__(
        self,
        writer: GridctlWriter,
        servers: list[DemoServer],
        *,
        seed: int = 7,
        interval: float = 1.0,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.writer = writer
        self.servers = [s for s in servers if s.profile.live]
        self.rng = random.Random(f"{seed}:live")
        self.interval = interval
        self.clock_ns = clock_ns
        self.ticks = 0
        self.error: str | None = None  # why the writer stopped early, if it did
        self._last_ns: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self, now_ns: int | None = None) -> int:
        """One flush of every active server at ``now_ns``. Returns the lines written."""
        now_ns = self.clock_ns() if now_ns is None else now_ns
        seconds = self.interval if self._last_ns is None else (now_ns - self._last_ns) / NS
        seconds = min(max(seconds, 0.0), 60.0)
        self._last_ns = now_ns
        self.writer.mill()  # compress what the previous tick rotated
        before = sum(s.writer.lines for s in self.servers)

        restart = self._pick(RESTART_PER_TICK)
        clear_cost = self._pick(COST_RESET_PER_TICK, with_cost=True)
        rotate = self._pick(ROTATE_PER_TICK)
        for index, s in enumerate(self.servers):
            ts_ns = now_ns + index * 23_000  # one flush walks the servers in turn
            w = s.writer
            if s is rotate:
                w.rotate(ts_ns, compress="deferred")
            tokens, cost = s.activity.draw_live(ts_ns / NS, seconds)
            if s is restart:
                w.restart(ts_ns, tokens, cost)
            elif s is clear_cost and cost is not None:
                w.clear_cost(ts_ns, tokens, cost)
            elif tokens:
                tools = s.activity.tool_calls(tokens) if s.profile.extra_keys else None
                w.flush(ts_ns, tokens, cost, tools=tools)
            elif s.profile.extra_keys and w.tools and s.activity.tool_rng is not None \
                    and s.activity.tool_rng.random() < 0.05:
                # A call that counted no tokens: gridctl still writes the line (only
                # tool_usage changed) with a zero diff, which is no activity.
                name = min(w.tools)
                w.flush(ts_ns, Tokens(), None, tools={name: (1, 0, 0)})
            if s.calls is not None:
                live_tick(s.calls, ts_ns, seconds)  # its logs and traces
        self.ticks += 1
        return sum(s.writer.lines for s in self.servers) - before

    def _pick(self, chance: float, *, with_cost: bool = False) -> DemoServer | None:
        if self.rng.random() >= chance:
            return None
        pool = [s for s in self.servers if not with_cost or s.profile.price is not None]
        return self.rng.choice(pool) if pool else None

    # -- thread --------------------------------------------------------------------
    def start(self) -> None:
        """Start ticking in a daemon thread; the first tick happens at once."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="tokentop-demo-writer",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        deadline = time.monotonic()
        while not self._stop.is_set():
            try:
                self.tick()
            except OSError as exc:  # the tree was removed under us: nothing left to do
                self.error = str(exc)
                return
            deadline += self.interval
            self._stop.wait(max(0.0, deadline - time.monotonic()))

    def stop(self, timeout: float = 5.0) -> None:
        """Stop ticking and wait for the thread (idempotent)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
