"""The Logs screen (7): gridctl's per-server ``logs.jsonl``, live.

A thread worker owns a ``SignalFollower`` over the telemetry root the dashboard reads
(``app.source.root``): it takes the newest 10,000 records of each server (rotated
siblings too, plain or gzipped, when the active file holds fewer) and then polls for
appends, posting one ``LogsArrived`` message per poll that found something (at most
four a second, however fast gridctl writes). The screen keeps the records per server
(bounded) and shows one server or all of them, filtered by minimum level and text;
while the app is paused the list holds still and new records wait in the buffers.
"""

from __future__ import annotations

import threading
from typing import ClassVar, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from store.gridctl.buffer import ServerBuffers
from store.gridctl.follow import DEFAULT_CAPACITY, SignalFollower, SinkStats
from store.gridctl.logs import LEVEL_NAMES, LEVELS, LogRecord, parse_lines
from tui import format as fmt
from tui.screens import DashboardHost
from tui.widgets.log_text import LEVEL_STYLES, detail_text, local_clock, render_log_row
from tui.widgets.log_view import RecordList

ALL = "all"
LEVEL_CYCLE = (None, LEVELS["INFO"], LEVELS["WARN"], LEVELS["ERROR"])
POLL_SECONDS = 0.25


def empty_signal_message(root: object, signal: str, problem: str) -> Text:
    """Where the screen looked, and what gridctl writes there."""
    text = Text()
    text.append(f"no gridctl {signal} files yet\n\n", style="bold")
    text.append("looked in ")
    text.append(fmt.clean(root), style="bold")
    text.append(f"\n  ({problem})\n\n", style="italic")
    text.append("gridctl writes ")
    text.append(f"<stack>/<server>/{signal}.jsonl", style="bold")
    text.append(" there when telemetry\npersistence is on for a server.\n\n")
    for cmd, why in (("tokentop --metrics-dir DIR", "another telemetry root or stack"),
                     ("GRIDCTL_HOME=DIR tokentop", "reads DIR/telemetry"),
                     ("tokentop --demo", "built-in demo data")):
        text.append(f"  {cmd:<28}", style="bold")
        text.append(f"{why}\n", style="dim")
    text.append("\nWatching: records appear as soon as gridctl writes them.", style="italic")
    return text


class LogsArrived(Message):
    """One poll's worth of new records (or the first load), and the reader's counters."""

    def __init__(self, records: list[LogRecord], stats: SinkStats, servers: list[str],
                 with_files: list[str], error: str | None, first: bool = False) -> None:
        super().__init__()
        self.records = records
        self.stats = stats
        self.servers = servers
        self.with_files = with_files
        self.error = error
        self.first = first


class LogsScreen(Screen[None]):
    """Server selector, the live log, a detail pane and a status line."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", id="logs.search", key_display="/"),
        Binding("enter", "detail", "Detail", id="logs.detail"),
        Binding("l", "cycle_level", "Level", id="logs.level"),
        Binding("s", "next_server(1)", "Server", id="logs.next-server"),
        Binding("S", "next_server(-1)", "Prev server", id="logs.prev-server", show=False),
        Binding("d", "set_level('DEBUG')", "Debug+", id="logs.level-debug", show=False),
        Binding("i", "set_level('INFO')", "Info+", id="logs.level-info", show=False),
        Binding("w", "set_level('WARN')", "Warn+", id="logs.level-warn", show=False),
        Binding("e", "set_level('ERROR')", "Errors", id="logs.level-error", show=False),
        Binding("escape", "back", "Back", id="logs.back", show=False, key_display="esc"),
    ]

    DEFAULT_CSS = """
    LogsScreen #logs-scope { width: 1fr; padding: 0 1; }
    LogsScreen #logs-paused {
        background: $warning; color: $background; text-style: bold; margin-left: 1;
    }
    LogsScreen #logs-body { height: 1fr; }
    LogsScreen #logs-servers {
        width: 24; height: 1fr; border: none; border-right: vkey $panel-lighten-2;
        background: $surface; padding: 0;
    }
    LogsScreen.-narrow #logs-servers { display: none; }
    LogsScreen #logs-main { width: 1fr; height: 1fr; }
    LogsScreen #logs-filter {
        height: 1; border: none; padding: 0 1; background: $boost;
    }
    LogsScreen #logs-list {
        height: 1fr; background: $surface; scrollbar-size-vertical: 1;
    }
    LogsScreen #logs-detail {
        height: 1fr; border: round $accent; border-title-color: $text;
        border-title-style: bold; border-subtitle-color: $text-muted;
        background: $surface; padding: 0 1;
    }
    LogsScreen #logs-empty { width: 1fr; height: 1fr; padding: 1 2; }
    LogsScreen #logs-status {
        width: 1fr; height: 1; padding: 0 1; background: $panel;
    }
    """

    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (100, "-wide")]

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        super().__init__()
        self.capacity = capacity
        self.buffers: ServerBuffers[LogRecord] = ServerBuffers(
            capacity, lambda r: r.ns, lambda r: r.server)
        self.server: str | None = None  # None: all servers
        self.min_level: int | None = None
        self.query_text = ""
        self.stats = SinkStats()
        self.known_servers: list[str] = []
        self.with_files: list[str] = []
        self.error: str | None = None
        self.loaded = False
        self.new_while_paused = 0
        self.detail_record: LogRecord | None = None
        self._stop = threading.Event()

    @property
    def host(self) -> DashboardHost:
        return cast(DashboardHost, self.app)

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield Label("tokentop", id="app-title")
            yield Label(id="logs-scope")
            yield Label(" PAUSED ", id="logs-paused")
        with Horizontal(id="logs-body"):
            yield OptionList(id="logs-servers")
            with Vertical(id="logs-main"):
                yield Input(placeholder="search: message or attribute text; enter keeps, "
                            "esc clears", id="logs-filter")
                yield RecordList(self._render_row, id="logs-list")
                with VerticalScroll(id="logs-detail"):
                    yield Static(id="logs-detail-body")
                yield Static(id="logs-empty")
        yield Label(id="logs-status")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#logs-filter", Input).display = False
        detail = self.query_one("#logs-detail")
        detail.display = False
        detail.border_title = "Record"
        self.query_one("#logs-empty").display = False
        self.query_one("#logs-servers", OptionList).can_focus = False
        self.query_one(RecordList).empty_text = Text("reading logs…", style="italic dim")
        self.watch(self.app, "paused", self._paused_changed, init=False)
        self._show_servers()
        self._show_scope()
        self._show_paused()
        self._show_status()
        self.query_one(RecordList).focus()
        self._run()

    def on_unmount(self) -> None:
        self._stop.set()

    # -- reading --------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="logs", exit_on_error=False)
    def _run(self) -> None:
        """Load the newest records, then poll for appends until the screen goes away."""
        worker = get_current_worker()
        follower = SignalFollower(self.host.source.layout, "logs", parse_lines,
                                  capacity=self.capacity)

        def post(records: list[LogRecord], first: bool = False) -> None:
            with follower.sink.lock:
                stats = _copy_stats(follower.stats)
            msg = LogsArrived(records, stats, follower.servers(),
                              follower.servers_with_files(), follower.error, first)
            self.post_message(msg)

        try:
            post(follower.load(), first=True)
            if not self.host.follow:
                return
            while not self._stop.wait(POLL_SECONDS) and not worker.is_cancelled:
                records = follower.rescan()
                if records or follower.error != self.error:
                    post(records)
        except Exception as exc:  # keep the dashboard up and say what broke
            self.post_message(LogsArrived([], _copy_stats(follower.stats), follower.servers(),
                                          [], f"reading logs stopped: {exc}"))

    def on_logs_arrived(self, message: LogsArrived) -> None:
        batch = self.buffers.add(message.records)
        self.stats = message.stats
        self.error = message.error
        self.with_files = message.with_files
        if message.servers != self.known_servers or message.first:
            self.known_servers = message.servers
            self._show_servers()
        first = message.first
        self.loaded = True
        if self.host.paused and not first:
            self.new_while_paused += len(batch)
            self._show_paused()
        elif first:
            self._rebuild()
        else:
            keep = self._keep
            shown = [r for r in batch if keep(r)]
            self.query_one(RecordList).extend(shown, self.capacity)
        self._show_empty()
        self._show_status()

    # -- view ----------------------------------------------------------------------------
    def _render_row(self, record: LogRecord, width: int) -> Text:
        return render_log_row(record, width, show_server=self.server is None)

    def _keep(self, record: LogRecord) -> bool:
        if self.server is not None and record.server != self.server:
            return False
        return record.matches(self.min_level, self.query_text)

    def _rebuild(self) -> None:
        log = self.query_one(RecordList)
        records = self.buffers.view(self.server, lambda r: r.matches(self.min_level,
                                                                     self.query_text))
        log.empty_text = Text(
            "no records match" if self.query_text or self.min_level is not None
            else ("reading logs…" if not self.loaded else "no records yet"),
            style="italic dim")
        log.invalidate()  # the server column comes and goes with the selection
        log.set_records(records, keep=log.selected)
        self._show_scope()
        self._show_status()

    def _show_empty(self) -> None:
        empty = not self.with_files and not len(self.buffers)
        box = self.query_one("#logs-empty", Static)
        box.display = empty and self.loaded
        self.query_one(RecordList).display = not box.display
        if box.display:
            root = self.host.source.root
            problem = self.error or ("no server has a logs.jsonl" if self.known_servers
                                     else "no server directories")
            box.update(empty_signal_message(root, "logs", problem))

    def _show_servers(self) -> None:
        options = self.query_one("#logs-servers", OptionList)
        names = [ALL, *self.known_servers]
        current = self.server or ALL
        options.clear_options()
        options.add_options([Option(_server_label(n, n == current, n in self.with_files
                                                  or n == ALL), id=n) for n in names])
        if current in names:
            options.highlighted = names.index(current)

    def _show_scope(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("logs")
        text.append(" · ", style="dim")
        text.append(fmt.clean(self.server or "all servers"), style="bold #56b6c2")
        text.append(" · level", style="dim")
        text.append(" ")
        if self.min_level is None:
            text.append("all", style="bold")
        else:
            name = next(n for n in LEVEL_NAMES if LEVELS[n] == self.min_level)
            text.append(f" {name}+ ", style=LEVEL_STYLES[name])
        if self.query_text:
            text.append(" · search ", style="dim")
            text.append(fmt.clean(self.query_text), style="bold")
        self.query_one("#logs-scope", Label).update(text)

    def _show_status(self) -> None:
        log = self.query_one(RecordList)
        st = self.stats
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.error:
            text.append(fmt.clean(self.error), style="#e06c75")
            text.append(" · ", style="dim")
        shown = len(log.records)
        text.append(f"{fmt.count(shown)} record{'' if shown == 1 else 's'}", style="bold")
        text.append(f" of {fmt.count(len(self.buffers))} held", style="dim")
        if st.malformed:
            text.append(" · ", style="dim")
            text.append(f"{fmt.count(st.malformed)} malformed", style="bold #e06c75")
        if st.truncated_gz:
            text.append(f" · {st.truncated_gz} truncated .gz", style="#e5c07b")
        text.append(" · ", style="dim")
        if self.host.paused:
            text.append("paused", style="bold #e5c07b")
        elif log.following:
            text.append("following", style="#98c379")
        else:
            text.append("scrolled (end follows)", style="dim")
        if log.selected is not None and self.size.width >= 100:
            text.append(" · at ", style="dim")
            text.append(local_clock(log.selected.ns, date=True), style="dim")
        self.query_one("#logs-status", Label).update(text)

    def _paused_changed(self, paused: bool) -> None:
        if paused:
            self.new_while_paused = 0
        else:
            self._rebuild()
        self._show_paused()
        self._show_status()

    def _show_paused(self) -> None:
        label = self.query_one("#logs-paused", Label)
        label.display = self.host.paused
        if self.host.paused:
            label.update(f" paused, {fmt.count(self.new_while_paused)} new ")

    # -- actions ---------------------------------------------------------------------------
    def action_cycle_level(self) -> None:
        i = LEVEL_CYCLE.index(self.min_level) if self.min_level in LEVEL_CYCLE else 0
        self.min_level = LEVEL_CYCLE[(i + 1) % len(LEVEL_CYCLE)]
        self._rebuild()

    def action_set_level(self, name: str) -> None:
        level = LEVELS[name]
        self.min_level = None if level == LEVELS["DEBUG"] else level
        self._rebuild()

    def action_next_server(self, step: int) -> None:
        names: list[str | None] = [None, *self.known_servers]
        i = names.index(self.server) if self.server in names else 0
        self._pick_server(names[(i + step) % len(names)])

    def _pick_server(self, server: str | None) -> None:
        if server == self.server:
            return
        self.server = server
        self._close_detail()
        self.query_one(RecordList).cursor = None
        self._rebuild()
        self._show_servers()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "logs-servers":
            oid = event.option.id
            self._pick_server(None if oid in (None, ALL) else oid)
            self.query_one(RecordList).focus()

    def action_search(self) -> None:
        box = self.query_one("#logs-filter", Input)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "logs-filter":
            self.query_text = event.value
            self._rebuild()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "logs-filter":
            event.input.display = bool(event.value)
            self.query_one(RecordList).focus()

    def action_detail(self) -> None:
        log = self.query_one(RecordList)
        if self.focused is not log:
            log.focus()
            return
        log.select()

    def on_record_list_selected(self, message: RecordList.Selected) -> None:
        record: LogRecord = message.record
        pane = self.query_one("#logs-detail", VerticalScroll)
        if pane.display and self.detail_record is record:
            self._close_detail()
            return
        self.detail_record = record
        self.query_one("#logs-detail-body", Static).update(detail_text(record))
        pane.border_title = f"{record.badge} · {fmt.clean(record.server)}"
        pane.border_subtitle = "enter/esc close"
        pane.display = True
        pane.scroll_home(animate=False)
        log = self.query_one(RecordList)
        self.call_after_refresh(log.keep_cursor_visible)
        self._show_status()

    def _close_detail(self) -> None:
        self.query_one("#logs-detail").display = False
        self.query_one("#logs-detail-body", Static).update("")
        self.detail_record = None

    def action_back(self) -> None:
        """esc: close the detail pane, then clear the search."""
        box = self.query_one("#logs-filter", Input)
        if self.query_one("#logs-detail").display:
            self._close_detail()
            return
        if box.display or self.query_text:
            box.value = ""
            box.display = False
            self.query_text = ""
            self._rebuild()
            self.query_one(RecordList).focus()

    def on_key(self) -> None:
        # The cursor moved (or follow resumed): the status line says where we are.
        self.call_after_refresh(self._show_status)


def _server_label(name: str, current: bool, has_files: bool) -> Text:
    """A server in the selector: the current one marked, those without files dimmed."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("▶ " if current else "  ", style="bold #56b6c2")
    style = "bold #56b6c2" if current else ("" if has_files else "dim")
    text.append(fmt.clean(name), style=style)
    return text


def _copy_stats(stats: SinkStats) -> SinkStats:
    """A snapshot for the UI thread: the worker keeps counting into the original."""
    return SinkStats(**{k: getattr(stats, k) for k in stats.__dataclass_fields__})
