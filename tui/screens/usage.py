"""The Usage screen: the canonical usage store (Claude Code, Codex, ...) over a window.

Everything here comes from one ``UsageView`` (``tokentop.store.usage.read.read_usage``), read by
the app's usage worker through a read-only connection and posted as one
``UsageLoaded`` message when the store changed (``PRAGMA data_version``), the window
changed or the minute turned. The screen never touches SQLite itself.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Label, Static

from tokentop.store.redact import redact_text, redact_url
from tokentop.store.usage.agents import locations
from tokentop.store.usage.read import BREAKDOWNS, WINDOWS, BlockView, Quota, Sums, UsageView
from tokentop.tui import format as fmt
from tokentop.tui.screens import DashboardHost, UsageLoaded
from tokentop.tui.sources.base import SourceUpdated
from tokentop.tui.widgets.alert_banner import AlertBanner
from tokentop.tui.widgets.bars import DailyBars, gauge
from tokentop.tui.widgets.breakdown import TITLES, BreakdownTable
from tokentop.tui.widgets.copy import copy_value
from tokentop.tui.widgets.key_footer import KeyFooter
from tokentop.tui.widgets.kpi import KpiCard
from tokentop.tui.widgets.palette import palette
from tokentop.tui.widgets.screen_bar import ScreenBar
from tokentop.tui.widgets.session_table import SessionTable
from tokentop.tui.widgets.status import StatusLine
from tokentop.tui.widgets.window_bar import WindowBar, step_window

if TYPE_CHECKING:
    from tokentop.tui.sources.usage import UsageFeed

# What each window means, stated on screen (issue 17): the day windows are rolling
# (1d is the 24 hours up to now, not today); month is the calendar month to date.
WINDOW_WORDS = {"1d": "last 24 hours", "3d": "last 3 days", "7d": "last 7 days",
                "30d": "last 30 days", "month": "this month", "all": "all stored"}
WINDOW_LONG = {"1d": "rolling 24 h", "3d": "rolling 3 x 24 h", "7d": "rolling 7 x 24 h",
               "30d": "rolling 30 x 24 h", "month": "this month (UTC) to date",
               "all": "all stored"}
WINDOW_SHORT = {"1d": "24 h", "3d": "3 d", "7d": "7 d", "30d": "30 d", "month": "month",
                "all": "all"}
SLIM = 80  # below this many columns the breakdown takes the full width
# What ``b`` cycles through: the store's breakdowns, then the window's sessions
# (read on demand; ``enter`` opens one's messages and models).
KINDS: tuple[str, ...] = (*BREAKDOWNS, "session")
# with events from more than one box (--host), ``b`` also offers them by host
HOST_KINDS: tuple[str, ...] = (*BREAKDOWNS, "host", "session")


def _usd(usd: float) -> str:
    return fmt.usd(round(usd * 1_000_000))


def _rate(usd_per_hour: float) -> str:
    """A burn rate short enough for a 12-cell card, whole: ``$0.95/h``, ``$12.34/h``,
    ``$123/h``, ``$12.3k/h`` (cents are noise in a rate; ``fmt.usd`` below a cent)."""
    if 0.01 <= usd_per_hour < 100:
        return f"${usd_per_hour:.2f}/h"
    if 100 <= usd_per_hour < 10_000:
        return f"${usd_per_hour:,.0f}/h"
    return f"{_usd(usd_per_hour)}/h"


def _clock(dt: datetime) -> str:
    return dt.astimezone().strftime("%H:%M")


def _until(now: datetime, then: datetime) -> str:
    """``in 2h13m`` (or ``3d``) from ``now`` to ``then``."""
    s = int((then - now).total_seconds())
    if s <= 0:
        return "now"
    if s >= 2 * 86400:
        return f"in {s // 86400}d"
    h, m = divmod(s // 60, 60)
    return f"in {h}h{m:02d}m" if h else f"in {m}m"


class Panel(Static):
    """A bordered text panel whose bars are as wide as the panel: redrawn on resize."""

    def on_resize(self) -> None:
        screen = self.screen
        if isinstance(screen, UsageScreen):
            screen.refresh_view()


class UsageScreen(Screen[None]):
    """Window selector, KPI cards, a breakdown, daily bars, the 5-hour block, quotas.

    Below ``SLIM`` columns (class ``-slim``) the breakdown takes the full width and the
    daily bars and the block sit side by side under it: beside a 36-cell panel a
    table has no room for a model's name (issue 17: three rows of ``claude-…``).
    """

    CSS = """
    UsageScreen.-slim #usage-main { layout: vertical; }
    UsageScreen.-slim #usage-main #usage-tables { width: 100%; height: 1fr; }
    UsageScreen.-slim #usage-main #breakdown2 { display: none; }
    UsageScreen.-slim #usage-main #usage-side {
        width: 100%; height: 7; layout: horizontal;
    }
    UsageScreen.-slim.-tall #usage-main #usage-side { height: 10; }
    UsageScreen.-slim #usage-main #daily { width: 1fr; height: 100%; }
    UsageScreen.-slim #usage-main #block { width: 30; height: 100%; }
    UsageScreen.-slim #usage-main #quotas { display: none; }
    UsageScreen.-slim #kpis #ukpi-messages { display: none; }
    UsageScreen #usage-tables #sessions {
        display: none; height: 1fr; border: round $panel-lighten-2;
        border-title-color: $text; border-title-style: bold;
        border-subtitle-color: $text-muted; background: $surface;
    }
    UsageScreen.-sessions #usage-tables #sessions { display: block; }
    UsageScreen.-sessions #usage-tables #breakdown { display: none; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "cycle_window(1)", "Window", id="usage.window-next"),
        Binding("R", "cycle_window(-1)", "Window back", id="usage.window-prev", show=False),
        Binding("b", "cycle_breakdown(1)", "Breakdown", id="usage.breakdown-next"),
        Binding("B", "cycle_breakdown(-1)", "Breakdown back", id="usage.breakdown-prev",
                show=False),
        Binding("enter", "open_session", "Messages", id="usage.open-session"),
        Binding("o", "sort", "Sort", id="usage.sort", show=False),
        Binding("O", "sort_reverse", "Reverse sort", id="usage.sort-reverse", show=False),
        Binding("y", "copy", "Copy", id="usage.copy", show=False),
    ]

    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [
        (0, "-narrow"), (100, "-wide"), (120, "-very-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (32, "-tall")]

    window: reactive[str] = reactive("1d", init=False)
    breakdown: reactive[str] = reactive("model", init=False)

    def __init__(self) -> None:
        super().__init__()
        self.view: UsageView | None = None
        self.error: str | None = None
        self.locations: list = []  # (Location, [(path, exists)]), found in a worker
        self.sessions: list | None = None  # the session view's rows (None: not read yet)
        self._sessions_key: tuple[object, ...] | None = None
        self._kinds_shown: tuple[str, ...] = KINDS

    @property
    def host(self) -> DashboardHost:
        return cast(DashboardHost, self.app)

    # -- layout ------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield ScreenBar()
        yield AlertBanner()
        with Horizontal(id="topbar"):
            yield Label(id="usage-scope")
            yield WindowBar(id="window-bar")
            yield Label(" PAUSED ", id="usage-paused")
        yield Label(id="usage-message")
        with Horizontal(id="kpis"):
            yield KpiCard("Tokens", id="ukpi-tokens")
            yield KpiCard("Cost", id="ukpi-cost")
            yield KpiCard("Burn", id="ukpi-burn")
            yield KpiCard("Sessions", id="ukpi-sessions")
            yield KpiCard("Messages", id="ukpi-messages")
        with Horizontal(id="usage-main"):
            with Vertical(id="usage-tables"):
                yield BreakdownTable(id="breakdown")
                yield SessionTable(id="sessions")
                yield BreakdownTable(id="breakdown2")  # tall screens: the next one too
            with Vertical(id="usage-side"):
                yield DailyBars(id="daily")
                yield Panel(id="block")
                yield Panel(id="quotas")
        yield Static(id="usage-empty")
        yield Label(id="usage-detail")
        yield Label(id="unpriced")
        yield StatusLine(id="usage-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.set_class(self.app.size.width < SLIM, "-slim")
        self.query_one("#usage-paused", Label).display = False
        self.query_one("#usage-message", Label).display = False
        self.query_one("#unpriced", Label).display = False
        self.query_one("#usage-detail", Label).display = False
        self.query_one("#usage-empty", Static).display = False
        self.query_one("#usage-empty", Static).border_title = "No agent usage in this window"
        self.run_worker(self._find_locations, thread=True, name="usage-locations",
                        exclusive=True)
        self.query_one("#daily").border_title = "Per day (UTC)"
        self.query_one("#block").border_title = "5-hour block"
        self.query_one("#quotas").border_title = "Quotas"
        self.query_one(WindowBar).value = self.window
        self.watch(self.app, "paused", self._paused_changed, init=False)
        self.app.theme_changed_signal.subscribe(self, lambda _: self.refresh_view())
        self._set_breakdown_title()
        loaded = self.usage.loaded if self.usage is not None else None
        if loaded is not None:
            self.view, self.error = loaded.view, loaded.error
        self._request(self.window)
        if getattr(self.host, "usage_team", None):
            self.host.sources.use("team", self)  # its passes redraw the status line
        self.refresh_view()
        self.call_after_refresh(self.refresh_view)  # panels drawn at their laid-out width

    def on_source_updated(self, message: SourceUpdated) -> None:
        if message.name == "team":
            self._show_status(self.view)

    @property
    def usage(self) -> UsageFeed | None:
        """The usage source (None: no usage store); it starts with the app."""
        return cast("UsageFeed | None", self.host.sources.get("usage"))

    def _request(self, window: str) -> None:
        if self.usage is not None:
            self.usage.request(window)

    def on_screen_resume(self) -> None:
        self._request(self.window)
        self.refresh_view()

    def _paused_changed(self, paused: bool) -> None:
        self.query_one("#usage-paused", Label).display = paused

    # -- updates -----------------------------------------------------------------
    def on_usage_loaded(self, message: UsageLoaded) -> None:
        if message.error is not None:
            self.error = message.error
        else:
            self.error = None
            if message.view is not None:
                self.view = message.view
        self.refresh_view()

    def watch_window(self, value: str) -> None:
        self.query_one(WindowBar).value = value
        self._request(value)
        self.refresh_view()

    def watch_breakdown(self) -> None:
        self._set_breakdown_title()
        self.refresh_view()

    @property
    def second_breakdown(self) -> str:
        """What the lower table shows on tall screens: the next breakdown after ``b``'s."""
        return "project" if self.breakdown == "model" else "model"

    def _set_breakdown_title(self) -> None:
        table = self.query_one("#breakdown", BreakdownTable)
        table.border_title = ("By tool: calls" if self.breakdown == "tool"
                              else f"By {TITLES.get(self.breakdown, 'x').lower()}")
        self._kinds_shown = self.kinds
        kinds = "b: " + "·".join(TITLES.get(k, "Session").lower() for k in self.kinds)
        # Whole, or a shorter hint: never a list cut mid-word.
        table.border_subtitle = kinds if len(kinds) + 6 <= table.size.width else "b: next view"
        sessions = self.query_one("#sessions", SessionTable)
        sessions.border_title = "Sessions, latest first"
        sessions.border_subtitle = "enter: messages · b: next view"
        self.set_class(self.breakdown == "session", "-sessions")
        if self.breakdown == "session":
            sessions.focus()
        elif self.focused is sessions:
            self.set_focus(None)
        self.query_one("#breakdown2", BreakdownTable).border_title = (
            f"By {TITLES[self.second_breakdown].lower()}")

    def on_resize(self) -> None:
        self.set_class(self.size.width < SLIM, "-slim")
        self.call_after_refresh(self._set_breakdown_title)
        self.call_after_refresh(self.refresh_view)

    def refresh_view(self) -> None:
        if not self.is_mounted:
            return
        colors = palette(self.app)
        self._show_scope()
        message = self.query_one("#usage-message", Label)
        message.display = self.error is not None
        if self.error is not None:
            message.update(fmt.safe(f"usage store: {self.error}", f"bold {colors.error}"))
        view = self.view
        if view is None or view.window != self.window:
            if view is None:
                self._show_status(None)
            return  # the worker answers for this window within a poll
        t = view.totals
        empty = t.messages == 0
        self.query_one("#usage-main").display = not empty
        self.query_one("#usage-empty", Static).display = empty
        if empty:
            self.query_one("#usage-empty", Static).update(self._empty_text())
        cost = "—" if t.unpriced_tokens and t.unpriced_tokens == t.tokens else _usd(t.cost)
        self.query_one("#ukpi-tokens", KpiCard).set_value(fmt.tokens(t.tokens))
        self.query_one("#ukpi-cost", KpiCard).set_value(cost)
        burn = _rate(view.burn.cost_per_hour)
        if self.size.width >= 120:
            burn += f" {fmt.tokens(round(view.burn.tokens_per_minute))}/min"
        self.query_one("#ukpi-burn", KpiCard).set_value(burn)
        self.query_one("#ukpi-sessions", KpiCard).set_value(fmt.count(view.sessions))
        self.query_one("#ukpi-messages", KpiCard).set_value(fmt.count(t.messages))
        if self.kinds != self._kinds_shown:
            self._set_breakdown_title()
        if self.breakdown == "session":
            self._show_sessions(view)
        else:
            self.query_one("#breakdown", BreakdownTable).show(
                self.breakdown, view.breakdowns.get(self.breakdown, []))
        self.query_one("#breakdown2", BreakdownTable).show(
            self.second_breakdown, view.breakdowns.get(self.second_breakdown, []))
        self.query_one(DailyBars).show(view.daily, colors.input)
        self.query_one("#block", Static).update(self._block_text(view.block, view))
        quotas = self.query_one("#quotas", Static)
        quotas.display = bool(view.quotas) and not self.has_class("-slim")
        quotas.update(self._quota_text(view.quotas, view))
        detail = self.query_one("#usage-detail", Label)
        detail.display = bool(t.cache_write_1h or t.fast_messages)
        if detail.display:
            detail.update(self._detail_text(t, short=self.size.width < SLIM))
        unpriced = self.query_one("#unpriced", Label)
        unpriced.display = bool(view.unpriced)
        if view.unpriced:
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append("⚠ unpriced: ", style=f"bold {colors.warning}")
            line.append(fmt.clean(", ".join(view.unpriced)))
            line.append("  cost unknown: left out, not counted as $0"
                        if self.size.width >= SLIM else "  (cost left out)", style="dim")
            unpriced.update(line)
        self._show_status(view)

    # -- sessions ----------------------------------------------------------------
    def _show_sessions(self, view: UsageView) -> None:
        """Show the window's sessions, read again when the view was (a new minute, new
        data or another window): in a thread, through a read-only connection."""
        key = (view.window, view.now)
        table = self.query_one("#sessions", SessionTable)
        table.now = view.now
        if key != self._sessions_key and self.host.usage_path is not None:
            self._sessions_key = key
            table.show(self.sessions if self._sessions_window == view.window else None)
            self.run_worker(lambda: self._load_sessions(view.window, view.now), thread=True,
                            name="usage-sessions", exclusive=True, group="usage-sessions")
        elif self.sessions is not None:
            table.show(self.sessions)

    _sessions_window: str | None = None

    def _load_sessions(self, window: str, now: datetime) -> None:
        from tokentop.store.usage.db import UsageStore
        from tokentop.store.usage.sessions import session_list

        path = self.host.usage_path
        assert path is not None
        try:
            with UsageStore.open(path, read_only=True) as store:
                rows = session_list(store.conn, window, now)
        except Exception as exc:  # a locked or vanished store: said in the table
            self.app.call_from_thread(self._sessions_failed, str(exc))
            return
        self.app.call_from_thread(self._sessions_read, window, rows)

    def _sessions_read(self, window: str, rows: list) -> None:
        if window != self.window:
            return
        self.sessions, self._sessions_window = rows, window
        self.query_one("#sessions", SessionTable).show(rows)

    def _sessions_failed(self, message: str) -> None:
        table = self.query_one("#sessions", SessionTable)
        table.loading_text = f"reading sessions failed: {fmt.clean(message)}"
        table.show(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_session":
            return self.breakdown == "session"
        return True

    def action_open_session(self) -> None:
        table = self.query_one("#sessions", SessionTable)
        if 0 <= table.cursor_row < len(table.rows_shown) and self.view is not None:
            from tokentop.tui.screens.usage_session import SessionScreen

            path = self.host.usage_path
            assert path is not None
            self.app.push_screen(SessionScreen(table.rows_shown[table.cursor_row], path,
                                               self.window, self.view.now))

    def on_data_table_row_selected(self, event: SessionTable.RowSelected) -> None:
        if event.data_table.id == "sessions":
            event.stop()
            self.action_open_session()

    def _find_locations(self) -> None:
        """Where each agent's usage is read from, and which of those exist: a stat per
        path, off the UI thread (a home on a network file system may be slow)."""
        found = [(loc, [(p, p.exists()) for p in loc.paths]) for loc in locations()]
        self.app.call_from_thread(self._set_locations, found)

    def _set_locations(self, found: list) -> None:
        self.locations = found
        self.refresh_view()

    def _empty_text(self) -> Text:
        """The empty window: every agent tokentop reads, where it looked, what it found."""
        text = Text()
        text.append("Nothing in " + WINDOW_WORDS.get(self.window, self.window)
                    + ". tokentop reads these agents' logs (press r for a longer window).\n")
        if self.locations:  # first: the list below is longer than a screen
            have = [loc.label for loc, paths in self.locations
                    if any(exists for _, exists in paths)]
            if have:
                text.append("Found: " + fmt.clean(", ".join(have))
                            + " (nothing of theirs in this window).\n")
            else:
                text.append("None of these was found: no agent logs on this machine.\n",
                            style="bold")
        text.append("\n")
        for loc, paths in self.locations:
            text.append(f"{loc.label:<12}", style="bold")
            for n, (path, exists) in enumerate(paths):
                if n:
                    text.append(" " * 12)
                text.append(fmt.clean(path))
                text.append("" if exists else "  (not found)", style="dim")
                text.append("\n")
        if self.locations:
            text.append("\nMove one with its variable (`tokentop agents` lists them all),"
                        " or try tokentop --demo.", style="italic")
        return text

    @staticmethod
    def _detail_text(t: Sums, *, short: bool = False) -> Text:
        """What Claude Code 2.1 prices apart: 1-hour cache writes (2x input, where a
        5-minute write is 1.25x) and fast-mode messages (the model's fast multiplier);
        their models show as ``<model>-fast`` in the model breakdown."""
        line = Text(no_wrap=True, overflow="ellipsis")
        if t.cache_write_1h:
            line.append("1h cache writes " if short else "1-hour cache writes ", style="dim")
            line.append(fmt.tokens(t.cache_write_1h))
            line.append(f" of {fmt.tokens(t.cache_write)}" + ("" if short else " (2x input)"),
                        style="dim")
        if t.fast_messages:
            if t.cache_write_1h:
                line.append(" · " if short else "  ·  ", style="dim")
            line.append("fast " if short else "fast mode ", style="dim")
            line.append(fmt.count(t.fast_messages))
            line.append(" msgs" if short else " messages", style="dim")
        return line

    def _scope_words(self, room: int) -> str:
        """The window's definition in ``room`` cells: ``rolling 24 h since 2026-05-04
        12:31`` where it fits, else shorter, never a time cut mid-digit."""
        view = self.view
        long = WINDOW_LONG.get(self.window, self.window)
        choices = []
        if view is not None and view.window == self.window and view.start is not None:
            since = view.start.astimezone().strftime("%Y-%m-%d %H:%M")
            choices.append(f"{long} · since {since}")
        choices += [long, WINDOW_SHORT.get(self.window, self.window)]
        return next((c for c in choices if len(c) <= room), "")

    def _show_scope(self) -> None:
        # The title and the window bar (its labels, two cells apart) take the rest.
        bar = sum(len(w) + 2 for w in WINDOWS) + 2
        room = self.size.width - len(" tokentop  ") - bar - len("usage · ") - 1
        words = self._scope_words(room)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("usage")
        if words:
            text.append(f" · {words}", style="dim")
        self.query_one("#usage-scope", Label).update(text)

    def _block_text(self, block: BlockView | None, view: UsageView) -> Text:
        colors = palette(self.app)
        text = Text(no_wrap=True, overflow="ellipsis")
        if block is None:
            text.append("no active block", style="italic dim")
            return text
        width = max(8, self.query_one("#block").content_size.width)
        elapsed = (view.now - block.start).total_seconds() / (block.end - block.start
                                                             ).total_seconds()
        text.append(f"{_clock(block.start)}–{_clock(block.end)}", style="bold")
        text.append(f"  ends {_until(view.now, block.end)}\n", style="dim")
        text.append_text(gauge(elapsed, width, colors.input, colors.idle))
        text.append("\nnow  ")
        text.append(f"{fmt.tokens(block.tokens):>6} {_usd(block.cost):>9}")
        if block.projected_tokens is not None and block.projected_cost is not None:
            text.append("\nproj ")
            text.append(f"{fmt.tokens(block.projected_tokens):>6} "
                        f"{_usd(block.projected_cost):>9}", style=f"bold {colors.accent}")
        return text

    def _quota_text(self, quotas: list[Quota], view: UsageView) -> Text:
        colors = palette(self.app)
        width = max(20, self.query_one("#quotas").content_size.width)
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, q in enumerate(quotas):
            if i:
                text.append("\n")
            name = f"{q.provider} {q.metric}"
            text.append(fmt.clean(name)[: width - 16].ljust(width - 16))
            pct = q.fraction
            style = colors.error if pct >= 0.9 else colors.warning if pct >= 0.7 else colors.cost
            text.append(f"{pct:>5.0%}", style=f"bold {style}")
            if q.full_at is not None:
                text.append(f" {_until(view.now, q.full_at):>6}", style="dim")
            text.append("\n")
            text.append_text(gauge(pct, width, style, colors.idle))
        return text

    def _show_status(self, view: UsageView | None) -> None:
        path = self.host.usage_path
        text = Text(no_wrap=True, overflow="ellipsis", style="dim")
        if path is None:
            text.append("no usage store")
        else:
            # The path gives way (from its left) to what follows it: the state and time.
            team = getattr(self.host, "usage_team", None)
            shown = fmt.clean(redact_url(team) if team else path)
            remote = (self.host.sources.get("remote")
                      if getattr(self.host, "remote_hosts", ()) and self.host.usage_collect
                      else None)
            # a box that cannot be read: its reason (ssh's words) and its last read
            boxes = [f" · {fmt.clean(line)}" for line in getattr(remote, "lines", list)()]
            room = self.size.width - 2 - 48 - sum(len(b) for b in boxes[::2])
            if len(shown) > room:
                shown = "…" + shown[-max(room - 1, len(Path(shown).name)):]
            text.append(shown)
            for box in boxes:  # before the rest: what a narrow line keeps
                text.append(box, style=f"not dim {palette(self.app).warning}")
            collect = self.host.sources.get("collect") if self.host.usage_collect else None
            not_storing = getattr(collect, "not_storing", None)
            if team:
                self._team_status(text)
            elif not_storing:
                text.append(f" · not storing: {fmt.clean(not_storing)}",
                            style=f"not dim {palette(self.app).warning}")
            elif getattr(collect, "polling", None):
                # inotify refused (a per-user kernel limit): slower, still collecting
                text.append(" · collecting agent logs (polling: file watcher refused)",
                            style=f"not dim {palette(self.app).warning}")
            else:
                text.append(" · collecting agent logs" if self.host.usage_collect
                            else " · read-only")
        if view is not None:
            text.append(f" · read {view.now.astimezone().strftime('%H:%M:%S')}")
        self.query_one("#usage-status", Label).update(text)

    def _team_status(self, text: Text) -> None:
        """A team store: whether the last sync reached the server (one line, redacted)."""
        feed = self.host.sources.get("team")
        problem = getattr(feed, "problem", None)
        synced = getattr(feed, "synced_at", None)
        if problem:
            # the URL is already shown just before: the reason alone stays on screen
            # ("cannot connect to PostgreSQL"), as the collector's "not storing" does
            team = redact_url(self.host.usage_team or "")
            problem = problem.replace(f": {team}", "").replace(f" ({team})", "")
            problem = problem.split(" (", 1)[0]
            text.append(f" · team store: {fmt.clean(redact_text(problem))}",
                        style=f"not dim {palette(self.app).warning}")
        elif synced is not None:
            text.append(" · team store, synced "
                        f"{datetime.fromtimestamp(synced).strftime('%H:%M:%S')}")
        else:
            text.append(" · team store, syncing")

    # -- actions -----------------------------------------------------------------
    def action_cycle_window(self, step: int) -> None:
        self.window = step_window(self.window, step)

    def _sortable(self) -> BreakdownTable | SessionTable:
        """The table ``o`` sorts: the view ``b`` chose (the lower table keeps its order)."""
        if self.breakdown == "session":
            return self.query_one("#sessions", SessionTable)
        return self.query_one("#breakdown", BreakdownTable)

    def action_sort(self) -> None:
        self._sortable().sort_next()

    def action_sort_reverse(self) -> None:
        self._sortable().sort_reverse()

    def action_copy(self) -> None:
        """The session id under the cursor (the breakdowns have no cursor: b, sessions)."""
        row = (self.query_one("#sessions", SessionTable).selected
               if self.breakdown == "session" else None)
        copy_value(self.app, "session id", row.session_id if row else None)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The views ``b`` cycles: by host too once the window has more than one."""
        view = self.view
        return HOST_KINDS if view is not None and "host" in view.breakdowns else KINDS

    def action_cycle_breakdown(self, step: int) -> None:
        kinds = self.kinds
        i = kinds.index(self.breakdown) if self.breakdown in kinds else 0
        self.breakdown = kinds[(i + step) % len(kinds)]
        self.refresh_bindings()

    def on_window_bar_picked(self, event: WindowBar.Picked) -> None:
        self.window = event.window
