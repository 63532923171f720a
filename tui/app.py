"""The tokentop Textual app: owns the metrics worker, the clock and the pause switch.

``TokentopApp(source, clock=..., follow=...)`` is a factory in the Posting sense:
tests hand it a ``MetricsSource`` over files in a temporary directory and a fixed
clock, and get the very same app a user runs.

Threads: the source's blocking ``replay`` and ``follow`` run in one Textual thread
worker; they write only to the store (the ring takes its own lock). The UI never
waits on them: a 0.25 s timer compares a cheap fingerprint of the store
(``ring.version``, counters, progress, the current minute) and, when it changed,
tells the screens to redraw. However fast lines arrive, screens redraw at most four
times a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive

from tokentop.store.events.model import DEFAULT_CAPACITY as EVENTS_CAPACITY
from tokentop.store.metrics import MetricsSource
from tokentop.tui.screens import SourceChanged, UsageLoaded, UsageSeriesLoaded, screen_specs
from tokentop.tui.screens.help import HelpScreen

if TYPE_CHECKING:
    from textual.dom import DOMNode
    from textual.screen import Screen
    from textual.widget import Widget

    from tokentop.store.events.filesource import FileSource
    from tokentop.store.events.sse import SseSource
    from tokentop.store.events.stream import EventStream, Reader

POLL_SECONDS = 0.25
USAGE_POLL_SECONDS = 0.5  # PRAGMA data_version, about twice a second
USAGE_BUSY_MS = 1000  # a locked store says so within a second, not after five
WORKER_THREADS = 32  # long-lived thread workers at once (see on_mount)
GC_YOUNG = 10_000  # allocations between young collections (CPython's default: 700)


class SourceReplayed(Message):
    """The worker finished replaying the history (or gave up): redraw right away."""


class TokentopApp(App[int]):
    """``top`` for AI agent usage."""

    CSS_PATH = "app.tcss"
    TITLE = "tokentop"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help", key_display="?"),
        Binding("space", "toggle_pause", "Pause", id="app.pause"),
        Binding("tab", "next_screen", "Screens", id="app.next-screen", priority=True),
        Binding("1", "pick_screen(0)", "Overview", id="app.screen-1", show=False),
        Binding("2", "pick_screen(1)", "Usage", id="app.screen-2", show=False),
        Binding("3", "pick_screen(2)", "Events", id="app.screen-3", show=False),
        Binding("4", "pick_screen(3)", "Traces", id="app.screen-4", show=False),
        Binding("5", "pick_screen(4)", "Access", id="app.screen-5", show=False),
        Binding("6", "pick_screen(5)", "Files", id="app.screen-6", show=False),
        Binding("7", "pick_screen(6)", "Logs", id="app.screen-7", show=False),
        Binding("8", "pick_screen(7)", "Spans", id="app.screen-8", show=False),
    ]

    paused: reactive[bool] = reactive(False, bindings=True)

    def __init__(
        self,
        source: MetricsSource,
        *,
        clock: Callable[[], float] = time.time,
        poll: bool = False,
        follow: bool = True,
        usage_path: Path | None = None,
        usage_collect: bool = False,
        events: str | None = None,
        events_replay: bool = False,
        events_capacity: int = EVENTS_CAPACITY,
        events_follow: bool | None = None,
        traces: str | None = None,
        latency_cache: str = "auto",
        diagnostics: str | None = None,
        access: str | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.clock = clock
        self.poll = poll
        self.follow = follow
        # The usage store: read through a read-only connection in a thread worker;
        # ``usage_collect`` also runs the collectors into it (tokentop's own store only).
        self.usage_path = usage_path
        self.usage_collect = usage_collect
        self.usage_window = "1d"
        self.usage_error: str | None = None
        self._usage_wake = threading.Event()
        self.usage_view: UsageLoaded | None = None  # the last read, for screens built later
        # The Overview's range while it draws the usage store (None: it does not).
        self.usage_series_range: str | None = None
        self.usage_series: UsageSeriesLoaded | None = None  # the last series read
        self.problem: str | None = None  # the worker's last failure, shown in the status line
        # The browser event stream (--events): the app owns the ring, the source and
        # the Events screen's reader, so nothing is missed before the screen is shown
        # (what the ring evicted by then shows as "not shown: viewer fell behind").
        self.events_target = events
        self.events_problem: str | None = None
        self.event_stream: EventStream | None = None
        self.event_reader: Reader | None = None
        self.event_source: FileSource | SseSource | None = None
        if events is not None:
            self._build_events(events, events_replay, events_capacity,
                               follow if events_follow is None else events_follow)
        # Gateway traces (--traces: a SQLite path or a postgresql:// URL), the gateway's
        # pipeline diagnostics (--diagnostics: a gateway URL or a JSON file) and
        # airstore access events (--access: a JSONL file). The Traces, Access and Files
        # screens query these in their own workers; the app only carries the targets.
        self.traces_target = traces
        self.latency_cache = latency_cache
        self.diagnostics_target = diagnostics
        self.access_path = access
        self.specs = screen_specs()
        for spec in self.specs:
            self.add_mode(spec.mode, self._fresh(spec.factory))
        self._stop = threading.Event()
        self._frozen_minute: int | None = None
        self._seen: tuple[object, ...] | None = None
        self._signals: list[int] = []
        self._gc_threshold: tuple[int, int, int] | None = None  # while the heap is frozen

    def _fresh(self, factory: Callable[[], Screen[None]]) -> Callable[[], Screen[None]]:
        """The screen, marked as styled with the current theme.

        Textual restyles the whole app (re-parsing every stylesheet, 50-75 ms here)
        the first time it switches to a screen whose style generation is behind the
        app's, and a new screen starts behind. A screen built now is styled as it
        mounts, with the current theme; a later theme change still bumps the app's
        generation and restyles it on its next switch.
        """

        def build() -> Screen[None]:
            screen = factory()
            screen._css_update_count = self._css_update_count
            return screen

        return build

    # -- life cycle ----------------------------------------------------------------
    def on_mount(self) -> None:
        # Textual runs thread workers on the event loop's default executor, which has
        # min(32, cores + 4) threads: 6 on a 2-core box. The sources and screens each
        # keep a worker for as long as they follow something (metrics, usage, events,
        # access, files, logs, spans, ...), so a seventh would wait forever.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="tokentop"))
        self.switch_mode(self.specs[0].mode)
        self.set_interval(POLL_SECONDS, self.poll_source)
        # Replay after the first paint: the dashboard (and its progress) shows at once.
        self.call_after_refresh(self._run_source)
        if self.usage_path is not None:
            self.call_after_refresh(self._run_usage)
            if self.usage_collect:
                self.call_after_refresh(self._run_collect)
        if self.event_source is not None:
            self.call_after_refresh(self._run_events)
        self.call_after_refresh(self._freeze_heap)
        self._handle_hangup()

    def _freeze_heap(self) -> None:
        """Move everything built at start-up (Textual, Rich, the screens) out of the
        cyclic collector's reach.

        A dashboard tailing 20,000 events a second allocates fast, so full collections
        come often; each one walked the whole start-up heap and stalled the event loop
        for 100-250 ms. Frozen objects are never freed, which is what start-up objects
        of a long-running app are anyway. A larger first threshold makes collections
        ten times rarer (each young one stays around a millisecond).
        """
        gc.collect()
        gc.freeze()
        self._gc_threshold = gc.get_threshold()
        young, middle, old = self._gc_threshold
        gc.set_threshold(max(young, GC_YOUNG), middle, old)

    def _thaw_heap(self) -> None:
        """Give the start-up heap back to the collector (tests run many apps in one
        process; a frozen widget tree would otherwise outlive its app)."""
        if self._gc_threshold is not None:
            gc.set_threshold(*self._gc_threshold)
            self._gc_threshold = None
            gc.unfreeze()

    def on_unmount(self) -> None:
        self.stop_source()
        self._thaw_heap()
        for sig in self._signals:
            asyncio.get_running_loop().remove_signal_handler(sig)

    def _handle_hangup(self) -> None:
        """Exit cleanly when the SSH session drops (SIGHUP) or on SIGTERM.

        The default action kills the process on the spot: no terminal reset, no
        worker stop, and ``--demo`` would leave its temporary tree behind.
        """
        if self.is_headless or threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        for name in ("SIGHUP", "SIGTERM"):
            sig = getattr(signal, name, None)
            if sig is None:
                continue
            # No handler here (Windows' loops, a closed loop, an invalid signal): the
            # default action stays, as it would without this method.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._exit_on_signal)
                self._signals.append(sig)

    def _exit_on_signal(self) -> None:
        self.stop_source()
        self.exit(0)

    def stop_source(self) -> None:
        """Ask the worker's ``follow`` to return (it checks at least once a second)."""
        self._stop.set()
        self._usage_wake.set()

    # -- the browser event stream ------------------------------------------------------
    def _build_events(self, target: str, replay: bool, capacity: int, follow: bool) -> None:
        """An ``http(s)`` URL is an SSE stream; anything else a JSONL file (``-``: stdin)."""
        from tokentop.store.events.stream import EventStream

        self.event_stream = EventStream(capacity)
        self.event_reader = self.event_stream.new_reader()
        if target.startswith(("http://", "https://")):
            from tokentop.store.events.sse import SseSource

            self.event_source = SseSource(target, self.event_stream, replay=replay)
        else:
            from tokentop.store.events.filesource import FileSource

            self.event_source = FileSource(target, self.event_stream, follow=follow,
                                           poll=self.poll)

    @property
    def events_name(self) -> str:
        """The event source as shown on screen: a URL without credentials or query."""
        target = self.events_target or ""
        if target.startswith(("http://", "https://")):
            from tokentop.store.events.sse import redact_url

            return redact_url(target)
        return "<stdin>" if target == "-" else target

    @work(thread=True, exclusive=True, group="events", exit_on_error=False)
    def _run_events(self) -> None:
        """Read the event source into the ring until the app stops (or a file ends)."""
        from tokentop.store.events.filesource import FileSource

        source = self.event_source
        assert source is not None
        try:
            if isinstance(source, FileSource):
                source.run(self._stop)
            else:
                source.run_in_thread(self._stop)
        except Exception as exc:  # keep the dashboard up and say what broke
            self.events_problem = f"event source stopped: {exc}"

    # -- the usage store -----------------------------------------------------------
    def request_usage(self, window: str | None = None) -> None:
        """Re-read the usage store now (the Usage screen changed its window)."""
        if window is not None:
            self.usage_window = window
        self._usage_wake.set()

    def request_usage_series(self, range_name: str | None) -> None:
        """Read the usage store's series over ``range_name`` too (None: stop reading it).

        The Overview asks when its source switch shows the usage store; the worker
        answers at once and then whenever the store, the range or the minute moves.
        """
        if range_name != self.usage_series_range:
            self.usage_series_range = range_name
            self._usage_wake.set()

    def _usage_now(self) -> datetime:
        if self.paused and self._frozen_minute is not None:
            return datetime.fromtimestamp(self._frozen_minute * 60, UTC)
        return datetime.fromtimestamp(self.clock(), UTC)

    @work(thread=True, exclusive=True, group="usage", exit_on_error=False)
    def _run_usage(self) -> None:
        """Poll ``PRAGMA data_version``; re-query on a change, a new window or minute.

        The Overview's series (when it shows the usage store) is read on the same
        change key plus its range. While paused the data version is held where it was,
        so the display stays frozen but a new window or range is still answered.
        """
        from tokentop.store.usage.db import UsageStore, UsageStoreError
        from tokentop.store.usage.read import read_usage

        assert self.usage_path is not None
        store = None
        seen: tuple[object, ...] | None = None
        seen_series: tuple[object, ...] | None = None
        version: int | None = None
        try:
            while not self._stop.is_set():
                self._usage_wake.clear()
                try:
                    if store is None:
                        if not self.usage_path.exists() and self.usage_collect:
                            UsageStore.open(self.usage_path).close()  # create it
                        store = UsageStore.open(self.usage_path, read_only=True,
                                                busy_timeout_ms=USAGE_BUSY_MS)
                    if not self.paused or version is None:
                        version = store.data_version()
                    now = self._usage_now()
                    retry = self.usage_error is not None
                    key = (version, self.usage_window, int(now.timestamp()) // 60)
                    view = None
                    if key != seen or retry:
                        view = read_usage(store.conn, self.usage_window, now)
                    wanted = self.usage_series_range
                    series_key: tuple[object, ...] | None = None
                    loaded = None
                    if wanted is not None:
                        span = self._series_span(wanted, now)
                        series_key = (version, wanted, span)
                        if series_key != seen_series or retry:
                            loaded = self._read_series(store.conn, wanted, span)
                    # Both reads succeeded: only now is an earlier error over.
                    self.usage_error = None
                    if view is not None:
                        seen = key
                        self._post_usage(UsageLoaded(view, None))
                    if loaded is not None:
                        seen_series = series_key
                        self.call_from_thread(self._deliver_series, loaded)
                except UsageStoreError as exc:
                    self._usage_failed(str(exc))
                except sqlite3.Error as exc:
                    from tokentop.store.sqlite_errors import describe

                    self._usage_failed(describe(exc, self.usage_path))
                    if store is not None:
                        store.close()
                        store = None
                except Exception as exc:  # e.g. a foreign row with an unreadable time
                    self._usage_failed(f"reading {self.usage_path} failed: {exc}")
                self._usage_wake.wait(USAGE_POLL_SECONDS)
        finally:
            if store is not None:
                store.close()

    def _series_span(self, range_name: str, now: datetime) -> tuple[int, int, int]:
        """(first minute, last minute, interval): the very window the ring's charts use,
        so both sources share one x axis (``all`` is every minute the ring retains)."""
        from tokentop.store.metrics import window

        win = window(self.source.ring, range_name, int(now.timestamp()) // 60)
        return win.start, win.end, win.interval

    @staticmethod
    def _read_series(conn: sqlite3.Connection, range_name: str,
                     span: tuple[int, int, int]) -> UsageSeriesLoaded:
        from tokentop.store.usage.read import series

        first, last, interval = span
        minutes, tokens, cost = series(conn, datetime.fromtimestamp(first * 60, UTC),
                                       datetime.fromtimestamp((last + 1) * 60, UTC), interval)
        return UsageSeriesLoaded(range_name, interval, minutes, tokens, cost)

    def _deliver_series(self, message: UsageSeriesLoaded) -> None:
        self.usage_series = message
        for screen in self.screen_stack:
            screen.post_message(message.copy())

    def _usage_failed(self, message: str) -> None:
        if message != self.usage_error:
            self.usage_error = message
            self._post_usage(UsageLoaded(None, message))

    def _post_usage(self, message: UsageLoaded) -> None:
        self.call_from_thread(self._deliver_usage, message)

    def _deliver_usage(self, message: UsageLoaded) -> None:
        """Keep the read for screens shown later; tell the screens shown now."""
        self.usage_view = message
        for screen in self.screen_stack:
            screen.post_message(UsageLoaded(message.view, message.error))

    @work(thread=True, exclusive=True, group="collect", exit_on_error=False)
    def _run_collect(self) -> None:
        """Collect agent logs into the store while the dashboard runs (watchfiles)."""
        from tokentop.store.usage.collect import watch
        from tokentop.store.usage.db import UsageStore

        assert self.usage_path is not None
        path = self.usage_path
        try:
            watch(lambda: UsageStore.open(path), self._stop,
                  lambda _report: self._usage_wake.set())
        except Exception as exc:  # keep the dashboard up and say what broke
            self._usage_failed(f"collecting agent logs stopped: {exc}")

    @work(thread=True, exclusive=True, group="metrics", exit_on_error=False)
    def _run_source(self) -> None:
        try:
            self.source.replay(self._stop)
        except Exception as exc:  # keep the dashboard up and say what broke
            self.problem = f"reading history failed: {exc}"
        self.post_message(SourceReplayed())
        if not self.follow:
            return
        try:
            self.source.follow(self._stop, poll=self.poll)
        except Exception as exc:
            self.problem = f"following files stopped: {exc}"
            self.post_message(SourceReplayed())

    # -- store -> screens ----------------------------------------------------------
    def now_minute(self) -> int:
        """The minute ranges end at: the clock's, or the moment of pausing."""
        if self.paused and self._frozen_minute is not None:
            return self._frozen_minute
        return int(self.clock()) // 60

    def _fingerprint(self) -> tuple[object, ...]:
        source = self.source
        stats = source.state.stats
        progress = source.progress
        return (
            source.ring.version, stats.lines, stats.malformed, stats.files,
            progress.done_bytes, progress.replaying, progress.replayed,
            source.error, self.problem, source.root_exists(), self.now_minute(),
        )

    def poll_source(self, force: bool = False) -> None:
        """Tell the screens to redraw if the store moved since the last look."""
        if self.paused and not force:
            return
        seen = self._fingerprint()
        if force or seen != self._seen:
            self._seen = seen
            for screen in self.screen_stack:
                screen.post_message(SourceChanged())

    def on_source_replayed(self, _: SourceReplayed) -> None:
        self.poll_source(force=not self.paused)

    def watch_paused(self, paused: bool) -> None:
        self._frozen_minute = int(self.clock()) // 60 if paused else None
        if not paused:
            self.poll_source(force=True)
            self._usage_wake.set()

    # -- actions -------------------------------------------------------------------
    def action_toggle_pause(self) -> None:
        self.paused = not self.paused

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_next_screen(self) -> None:
        modes = [spec.mode for spec in self.specs]
        current = modes.index(self.current_mode) if self.current_mode in modes else -1
        self._switch(modes[(current + 1) % len(modes)])

    def action_pick_screen(self, index: int) -> None:
        if 0 <= index < len(self.specs) and not isinstance(self.screen, HelpScreen):
            self._switch(self.specs[index].mode)

    def _switch(self, mode: str) -> None:
        self.switch_mode(mode)
        self.call_after_refresh(self._unfocus_hidden)

    def _unfocus_hidden(self) -> None:
        """Never leave the focus on a hidden widget (a screen's closed filter box).

        Textual gives a screen shown again the focus it had, or its first focusable
        widget, even one that is not displayed; the next key (a digit to switch
        screens) was then typed into an invisible search box.
        """
        if self.focused is None or self._shown(self.focused):
            return
        screen = self.screen
        screen.set_focus(next((w for w in screen.focus_chain if self._shown(w)), None))

    def _shown(self, widget: Widget) -> bool:
        node: DOMNode | None = widget
        while node is not None and node is not self.screen:
            if not node.display:
                return False
            node = node.parent
        return True

    async def action_quit(self) -> None:
        self.stop_source()
        self.exit(0)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_screen":
            return len(self.specs) > 1
        return True
