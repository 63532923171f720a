"""The gridctl metrics source: discover servers, replay their history, follow them live.

One object owns the tails of every server and the state they feed. ``replay`` reads
the whole retained history (with progress); ``follow`` then blocks on ``watchfiles``
over the telemetry root (directories, recursively, so new stacks and servers appear
without a restart) and rescans only the servers whose files changed. Both are plain
blocking calls: the UI runs them in a worker thread, the CLI runs ``replay`` directly.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from tokentop.store.metrics.layout import Layout
from tokentop.store.metrics.replay import MetricsState, ServerTotals
from tokentop.store.metrics.skills import SkillsSink
from tokentop.store.metrics.tools import ToolStat
from tokentop.store.ring import DEFAULT_CAPACITY_MINUTES, MinuteRing
from tokentop.store.tail.family_tail import FamilyTail

Clock = Callable[[], float]

WATCH_DEBOUNCE_MS = 200  # at most this long to group a burst of changes
WATCH_STEP_MS = 20  # quiet time that ends a group: bounds append-to-ring latency
FULL_RESCAN_S = 5.0  # safety net for filesystems whose events get lost
SETTLE_PASSES = 5  # more rotations than that during one replay: the writer outruns us


class _Stopped(Exception):
    """Raised from the progress callback to abandon a replay."""


@dataclass
class Progress:
    total_bytes: int = 0
    done_bytes: int = 0
    replaying: bool = False
    replayed: bool = False

    @property
    def fraction(self) -> float:
        if self.total_bytes <= 0:
            return 1.0 if self.replayed else 0.0
        return min(1.0, self.done_bytes / self.total_bytes)


class MetricsSource:
    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        capacity_minutes: int = DEFAULT_CAPACITY_MINUTES,
        clock: Clock = time.time,
    ) -> None:
        self.layout = Layout.resolve(path)
        self.state = MetricsState(ring=MinuteRing(capacity_minutes), clock=clock)
        self.clock = clock
        self.tails: dict[str, FamilyTail] = {}
        self.skill_tails: dict[str, FamilyTail] = {}  # stack -> its __skills__ file family
        self._skills_sink = SkillsSink(self.state)
        self.progress = Progress()
        self.error: str | None = None  # last problem worth a one-line message
        self.unreadable: list[str] = []  # servers whose directory this user cannot read
        self._scan_lock = threading.Lock()

    @property
    def ring(self) -> MinuteRing:
        return self.state.ring

    @property
    def root(self) -> Path:
        return self.layout.path

    def totals_snapshot(self) -> dict[str, ServerTotals]:
        """A copy of the per-server totals, safe to iterate while the worker writes."""
        with self.state.lock:
            return dict(self.state.totals)

    def tools_snapshot(self) -> dict[str, dict[str, ToolStat]]:
        """``stack/server`` -> tool -> cumulative usage (gridctl's latest ``tool_usage``)."""
        with self.state.lock:
            return {k: dict(v) for k, v in self.state.tools.items()}

    def skills_snapshot(self) -> dict[str, dict[str, ToolStat]]:
        """stack -> skill -> cumulative ``prompts/get`` usage (its ``__skills__`` file)."""
        with self.state.lock:
            return {k: dict(v) for k, v in self.state.skills.items()}

    def cost_seen(self) -> bool:
        """Whether any line carried gridctl's (removed, 2026-08-07) ``cost_*`` fields."""
        return self.state.cost_seen

    def root_exists(self) -> bool:
        return self.layout.path.is_dir()

    def discover(self) -> list[str]:
        """Pick up servers that appeared since the last call. Returns the new names."""
        if not self.layout.stack and not self.layout.path.is_dir():
            return []
        if not self.tails and self.layout.stack is None:
            # The directory may have been empty when resolved; look again.
            self.layout = Layout.resolve(self.layout.path)
        new = []
        unreadable = []
        for name, server_dir in self.layout.server_dirs().items():
            if not os.access(server_dir, os.R_OK | os.X_OK):
                unreadable.append(name)  # another user's 0700 directory: named, not hidden
            if name not in self.tails:
                self.tails[name] = FamilyTail(name, server_dir, self.state, "metrics")
                self.state.ring.touch_server(name)
                new.append(name)
        self.unreadable = sorted(unreadable)
        if unreadable:
            self.error = (f"cannot read {', '.join(unreadable[:3])}"
                          f"{f' (+{len(unreadable) - 3})' if len(unreadable) > 3 else ''}:"
                          " permission denied")
        for stack, skills_dir in self.layout.skills_dirs().items():
            if stack not in self.skill_tails:
                self.skill_tails[stack] = FamilyTail(stack, skills_dir, self._skills_sink,
                                                     "metrics")
        return new

    def _all_tails(self) -> list[FamilyTail]:
        return [*self.tails.values(), *self.skill_tails.values()]

    def replay(self, stop: threading.Event | None = None) -> int:
        """Read the whole retained history of every server. Returns lines consumed.

        ``stop`` lets a UI that quits mid-replay have its thread back within one chunk;
        a source whose replay was stopped is abandoned, not resumed.
        """
        with self._scan_lock:
            self.progress.replaying = True
            self.discover()
            self.progress.total_bytes = sum(t.pending_bytes() for t in self._all_tails())

            def advance(n: int) -> None:
                if stop is not None and stop.is_set():
                    raise _Stopped
                self.progress.done_bytes += n
                self.state.stats.last_update = self.clock()

            lines = 0
            try:
                for tail in self._all_tails():
                    lines += tail.scan(advance)
                # A file rotated while it was being listed and opened left lines in a
                # rotation this pass did not see (a one-shot ``metrics --json`` came up
                # short in 7-11 of 35 runs): scan those families again until none did.
                for _ in range(SETTLE_PASSES):
                    unsettled = [t for t in self._all_tails() if not t.settled()]
                    if not unsettled:
                        break
                    for tail in unsettled:
                        lines += tail.scan(advance)
            except _Stopped:
                return lines
            finally:
                self.progress.replaying = False
            if lines:
                self.state.stats.last_update = self.clock()
            self.progress.replayed = True
            return lines

    def _note(self, message: str) -> None:
        """The watcher polls instead of using inotify: shown where errors show."""
        self.error = message

    def rescan(self, changed: Iterable[Path] | None = None) -> int:
        """Read what is new; only in the servers of ``changed`` paths when given."""
        with self._scan_lock:
            self.discover()
            if changed is None:
                tails = self._all_tails()
            else:
                names = set()
                stacks = set()
                for path in changed:
                    hit = self.layout.server_of(Path(path))
                    if hit is not None:
                        names.add(hit[0])
                    elif (stack := self.layout.skills_of(Path(path))) is not None:
                        stacks.add(stack)
                tails = [self.tails[n] for n in sorted(names) if n in self.tails]
                tails += [self.skill_tails[s] for s in sorted(stacks) if s in self.skill_tails]
            lines = sum(t.scan() for t in tails)
            self.state.release_ahead()  # the clock may have reached held points
            if lines:
                self.state.stats.last_update = self.clock()
            return lines

    def follow(
        self,
        stop: threading.Event,
        *,
        poll: bool = False,
        on_change: Callable[[int], None] | None = None,
    ) -> None:
        """Block, following the files, until ``stop`` is set."""
        from tokentop.store.tail import watching  # the headless replay never watches

        last_full = time.monotonic()
        while not stop.is_set():
            if not self.layout.path.is_dir():
                self.error = f"waiting for {self.layout.path} to exist"
                stop.wait(1.0)
                continue
            self.error = None
            n = self.rescan()  # anything that happened while we were not watching
            if n and on_change:
                on_change(n)
            armed = False
            try:
                for changes in watching.watch(
                    self.layout.path,
                    stop=stop,
                    poll=poll,
                    poll_delay_ms=250,
                    on_fallback=self._note,
                    debounce=WATCH_DEBOUNCE_MS,
                    step=WATCH_STEP_MS,
                    rust_timeout=1000,
                    yield_on_timeout=True,
                ):
                    now = time.monotonic()
                    if not armed:
                        # The watcher is running now. A line appended between the rescan
                        # above and the watch being set up shows in no event: read
                        # everything once more (the first yield comes within a second).
                        armed = True
                        n = self.rescan()
                    elif now - last_full >= FULL_RESCAN_S:
                        last_full = now
                        n = self.rescan()
                    elif changes:
                        n = self.rescan(Path(p) for _, p in changes)
                    else:
                        continue
                    if n and on_change:
                        on_change(n)
                    if not self.layout.path.is_dir():
                        break
            except (OSError, RuntimeError) as exc:
                # The root vanished or the watcher died: report it and start over.
                self.error = f"watching {self.layout.path}: {exc}"
                stop.wait(1.0)
