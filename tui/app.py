"""The tokentop Textual app: screens, keys, theme, the clock and the pause switch.

``TokentopApp(source, clock=..., follow=...)`` is a factory in the Posting sense:
tests hand it a ``MetricsSource`` over files in a temporary directory and a fixed
clock, and get the very same app a user runs.

Everything the dashboard reads runs as a source (``tui/sources``): the app builds
them from its options, starts the eager ones after the first paint, hands the others
to the screen that first asks (``app.sources.use(name, screen)``), passes each batch
a source announces (``SourceUpdated``) to it to deliver, and stops them all when it
exits. Sources read in workers; the UI never waits on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive

from tokentop.store.events.model import DEFAULT_CAPACITY as EVENTS_CAPACITY
from tokentop.store.metrics import MetricsSource
from tokentop.tui.config.alerts import AlertSettings
from tokentop.tui.screens import screen_specs
from tokentop.tui.screens.help import HelpScreen
from tokentop.tui.sources import Sources, SourceUpdated
from tokentop.tui.sources.metrics import POLL_SECONDS as REFRESH_SECONDS

if TYPE_CHECKING:
    from textual.dom import DOMNode
    from textual.screen import Screen
    from textual.widget import Widget

    from tokentop.store.alerts.rules import Alert

MAX_ALERTS_SHOWN = 20  # the banner counts the rest; older ones fall off
WORKER_THREADS = 32  # long-lived thread workers at once (see on_mount)
GC_YOUNG = 10_000  # allocations between young collections (CPython's default: 700)


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
        Binding("exclamation_mark", "dismiss_alerts", "Dismiss alerts",
                id="app.dismiss-alerts", key_display="!", show=False),
    ]

    paused: reactive[bool] = reactive(False, bindings=True)
    # The alerts not yet dismissed, oldest first: every screen's banner shows them.
    alerts_shown: reactive[tuple[Alert, ...]] = reactive((), bindings=True)

    def __init__(
        self,
        source: MetricsSource,
        *,
        clock: Callable[[], float] = time.time,
        poll: bool = False,
        follow: bool = True,
        usage_path: Path | None = None,
        usage_collect: bool = False,
        usage_team: str | None = None,
        events: str | None = None,
        events_replay: bool = False,
        events_capacity: int = EVENTS_CAPACITY,
        events_follow: bool | None = None,
        traces: str | None = None,
        latency_cache: str = "auto",
        diagnostics: str | None = None,
        access: str | None = None,
        remote_hosts: Sequence[str] = (),
        start_screen: str | None = None,
        start_values: Mapping[str, Mapping[str, object]] | None = None,
        theme: str | None = None,
        refresh_seconds: float = REFRESH_SECONDS,
        notices: Sequence[str] = (),
        alerts: AlertSettings | None = None,
    ) -> None:
        super().__init__()
        # Preferences (tui/config): the screen shown first, each screen's start values
        # (mode -> reactive name -> value, e.g. the Overview's range), the theme, and how
        # often the metrics feed looks for change; ``notices``: the keys it ignored, also
        # said on stderr, which the dashboard's screen hides until it exits.
        self.notices = tuple(notices)
        # The ``[alerts]`` table: thresholds the alerts source checks, and how to tell.
        self.alert_settings = alerts or AlertSettings()
        self.bells = 0  # bells rung for alerts (what a test counts)
        self.start_screen = start_screen
        self.start_values = start_values or {}
        self.refresh_seconds = refresh_seconds
        if theme is not None:
            self.theme = theme
        self.source = source
        self.clock = clock
        self.poll = poll
        self.follow = follow
        # What each source reads (tui/sources): the usage store (read-only, plus the
        # collectors into it with ``usage_collect``: tokentop's own store only), the
        # browser event stream, gateway traces (a SQLite path or a postgresql:// URL),
        # the gateway's pipeline diagnostics and airstore access events.
        self.usage_path = usage_path
        self.usage_collect = usage_collect
        # ``--store postgresql://...``: the team store the ``team`` source syncs with;
        # ``usage_path`` is then its local replica (tokentop.store.usage.team)
        self.usage_team = usage_team
        # boxes whose agent logs are collected over ssh into the same store (--host)
        self.remote_hosts = tuple(remote_hosts)
        self.events_target = events
        self.events_options = {"replay": events_replay, "capacity": events_capacity,
                               "follow": follow if events_follow is None else events_follow}
        self.traces_target = traces
        self.latency_cache = latency_cache
        self.diagnostics_target = diagnostics
        self.access_path = access
        self.sources = Sources(self)
        self.specs = screen_specs()
        for spec in self.specs:
            self.add_mode(spec.mode, self._fresh(spec.factory, spec.mode))
        self._frozen_minute: int | None = None
        self._signals: list[int] = []
        self._gc_threshold: tuple[int, int, int] | None = None  # while the heap is frozen

    def _fresh(self, factory: Callable[[], Screen[None]],
               mode: str) -> Callable[[], Screen[None]]:
        """The screen, marked as styled with the current theme.

        Textual restyles the whole app (re-parsing every stylesheet, 50-75 ms here)
        the first time it switches to a screen whose style generation is behind the
        app's, and a new screen starts behind. A screen built now is styled as it
        mounts, with the current theme; a later theme change still bumps the app's
        generation and restyles it on its next switch. Its start values (the
        preferences) are set before it mounts, so it reads them as its own.
        """

        def build() -> Screen[None]:
            screen = factory()
            screen._css_update_count = self._css_update_count
            for name, value in self.start_values.get(mode, {}).items():
                screen.set_reactive(getattr(type(screen), name), value)
            return screen

        return build

    # -- life cycle ----------------------------------------------------------------
    def on_mount(self) -> None:
        # Textual runs thread workers on the event loop's default executor, which has
        # min(32, cores + 4) threads: 6 on a 2-core box. The sources each keep a worker
        # for as long as they follow something (metrics, usage, events, access, files,
        # logs, spans, ...), so a seventh would wait forever.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="tokentop"))
        if self.console.color_system in ("standard", "windows"):
            # 16 colours (TERM=xterm, a plain console): the themes' orange key hints
            # become bright red there and read as errors; app.tcss gives them yellow.
            self.add_class("-few-colors")
        modes = [spec.mode for spec in self.specs]
        self.switch_mode(self.start_screen if self.start_screen in modes else modes[0])
        for line in self.notices:  # a path and the user's text: never markup
            self.notify(line, title="config ignored", severity="warning", timeout=20,
                        markup=False)
        # Replay after the first paint: the dashboard (and its progress) shows at once.
        self.call_after_refresh(self.sources.start_eager)
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

    async def on_unmount(self) -> None:
        await self.sources.aclose()
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
        """Ask every source to stop (each checks at least once a second)."""
        self.sources.stop()

    def on_source_updated(self, message: SourceUpdated) -> None:
        """One batch from a source: it may announce the next one, and delivers this."""
        message.source.delivered()

    # -- alerts ----------------------------------------------------------------------
    def alerts_fired(self, alerts: Sequence[Alert]) -> None:
        """New crossings (from the alerts source, on the event loop): the banner shows
        them until dismissed, the bell rings once for the batch, and the desktop
        notification and the user's command run in a thread worker."""
        self.alerts_shown = (*self.alerts_shown, *alerts)[-MAX_ALERTS_SHOWN:]
        settings = self.alert_settings
        if settings.bell:
            self.bells += 1
            self.bell()
        if settings.desktop or settings.command:
            batch = tuple(alerts)
            self.run_worker(lambda: self._deliver(batch), thread=True,
                            group="alert-delivery", exit_on_error=False)

    def _deliver(self, alerts: Sequence[Alert]) -> None:
        from tokentop.tui.alert_delivery import deliver

        settings = self.alert_settings
        for problem in deliver(alerts, settings.desktop, settings.command):
            self.call_from_thread(self.notify, problem, title="alert", severity="warning",
                                  timeout=20, markup=False)

    def action_dismiss_alerts(self) -> None:
        self.alerts_shown = ()

    # -- the clock and the pause switch ----------------------------------------------
    def now_minute(self) -> int:
        """The minute ranges end at: the clock's, or the moment of pausing."""
        if self.paused and self._frozen_minute is not None:
            return self._frozen_minute
        return int(self.clock()) // 60

    def poll_source(self, force: bool = False) -> None:
        """Tell the screens to redraw if the metrics store moved since the last look."""
        self.sources.metrics.poll(force)

    def watch_paused(self, paused: bool) -> None:
        self._frozen_minute = int(self.clock()) // 60 if paused else None
        if not paused:
            self.poll_source(force=True)
            usage = self.sources.usage
            if usage is not None:
                usage.wake()

    # -- actions -------------------------------------------------------------------
    def action_toggle_pause(self) -> None:
        self.paused = not self.paused

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(section=self.current_mode))

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
