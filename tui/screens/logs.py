"""The Logs screen (7): gridctl's per-server ``logs.jsonl``, live.

The logs source (``tui/sources/gridlog.py``, started the first time this screen is
built) owns a ``SignalFollower`` over the telemetry root the dashboard reads
(``app.source.root``): it takes the newest 10,000 records of each server (rotated
siblings too, plain or gzipped, when the active file holds fewer) and then polls for
appends; what it found since the last batch reaches the screen as one
``RecordsArrived`` (at most four a second, however fast gridctl writes). The screen
keeps the records per server (bounded) and shows one server or all of them, filtered
by minimum level and text; while the app is paused the list holds still and new
records wait in the buffers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, cast

from rich.console import RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from tokentop.store.gridctl.buffer import ServerBuffers, merge_view
from tokentop.store.gridctl.follow import DEFAULT_CAPACITY, SinkStats
from tokentop.store.gridctl.logs import LEVEL_NAMES, LEVELS, LogRecord, parse_lines
from tokentop.tui import format as fmt
from tokentop.tui.screens import DashboardHost
from tokentop.tui.sources.gridlog import RecordsArrived
from tokentop.tui.widgets.alert_banner import AlertBanner
from tokentop.tui.widgets.copy import as_json, copy_value
from tokentop.tui.widgets.key_footer import KeyFooter
from tokentop.tui.widgets.log_text import (
    LEVEL_STYLES,
    SERVER_CAP,
    SERVER_WANT,
    detail_text,
    render_log_row,
)
from tokentop.tui.widgets.log_view import RecordList
from tokentop.tui.widgets.screen_bar import ScreenBar
from tokentop.tui.widgets.status import StatusLine

ALL = "all"
LEVEL_CYCLE = (None, LEVELS["INFO"], LEVELS["WARN"], LEVELS["ERROR"])
SYNC_VIEW_RECORDS = 20_000  # views of more records are computed in a worker thread


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
                     ("GRIDCTL_HOME=DIR tokentop", "reads DIR/.gridctl/telemetry"),
                     ("tokentop --demo", "built-in demo data")):
        text.append(f"  {cmd:<28}", style="bold")
        text.append(f"{why}\n", style="dim")
    text.append("\nWatching: records appear as soon as gridctl writes them.", style="italic")
    return text


class SignalScreen(Screen[None]):
    """What the Logs and Spans screens share: a followed signal of every server, a
    server selector, a bounded record list with search, a detail pane, a status line.

    Subclasses name the signal (``SIGNAL``), their widget ids (``PREFIX``), how to parse
    lines, how a record looks and what the detail pane shows for it.
    """

    # The record list, not Textual's default (the first focusable widget: the search
    # box, hidden until ``/``): keys typed before on_mount ran went into it.
    AUTO_FOCUS = ".sig-list"

    SIGNAL = "logs"
    PREFIX = "logs"
    NOUN = "record"
    SEARCH_HINT = "search: message or attribute text; enter keeps, esc clears"

    DEFAULT_CSS = """
    SignalScreen .sig-scope { width: 1fr; padding: 0 1; }
    SignalScreen .sig-paused {
        background: $warning; color: $background; text-style: bold; margin-left: 1;
    }
    SignalScreen .sig-body { height: 1fr; }
    SignalScreen .sig-servers {
        width: 24; height: 1fr; border: none; border-right: vkey $panel-lighten-2;
        background: $surface; padding: 0;
    }
    SignalScreen.-narrow .sig-servers { display: none; }
    SignalScreen .sig-main { width: 1fr; height: 1fr; }
    SignalScreen Input.sig-filter, SignalScreen Input.sig-filter:focus {
        height: 1; border: none; padding: 0 1; background: $boost;
    }
    SignalScreen .sig-header { height: 1; width: 1fr; background: $surface; }
    SignalScreen .sig-list { height: 1fr; background: $surface; scrollbar-size-vertical: 1; }
    SignalScreen .sig-detail {
        height: 1fr; border: round $accent; border-title-color: $text;
        border-title-style: bold; border-subtitle-color: $text-muted;
        background: $surface; padding: 0 1;
    }
    SignalScreen.-tall .sig-detail { height: 1fr; }
    SignalScreen .sig-empty { width: 1fr; height: 1fr; padding: 1 2; }
    SignalScreen .sig-status { width: 1fr; height: 1; padding: 0 1; background: $panel; }
    """

    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (32, "-tall")]

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        super().__init__()
        self.capacity = capacity
        self.buffers: ServerBuffers[Any] = ServerBuffers(capacity, self.time_of,
                                                         lambda r: r.server)
        self.server: str | None = None  # None: all servers
        self.query_text = ""
        self.stats = SinkStats()
        self.known_servers: list[str] = []
        self.with_files: list[str] = []
        self.error: str | None = None
        self.loaded = False
        self.new_while_paused = 0
        self.last_seq = 0  # the newest record's arrival number
        self.paused_seq: int | None = None  # while paused: the last one there was then
        self.detail_record: Any = None
        self.rebuilding = False  # a view is being computed in a worker
        self._generation = 0

    @property
    def host(self) -> DashboardHost:
        return cast(DashboardHost, self.app)

    # -- what subclasses say (each screen defines all three) ----------------------------
    parse: Callable[[list[bytes], str, Any], list[Any]]  # a batch of lines -> records
    time_of: Callable[[Any], int]  # a record's instant, epoch ns (the merge order)
    render_row: Callable[[Any, int], Text]  # a record as one line of ``width`` cells
    detail: Callable[[Any], tuple[Text, RenderableType]]  # (pane title, body) of a record

    def keep(self, record: Any) -> bool:
        """The screen's own filter (beyond server and search)."""
        return True

    def keep_fn(self) -> Callable[[Any], bool]:
        """``keep`` with the filter's current settings frozen (for a worker thread)."""
        return self.keep

    def scope_extra(self, text: Text) -> None:
        """Append the screen's own filters to the top bar."""

    def header(self, width: int) -> Text | None:
        """A column header above the list (None: no header line)."""
        return None

    def note_records(self, records: list[Any]) -> bool:
        """Grow the name columns to fit ``records``; True if a column grew (the rows
        already drawn are then drawn again)."""
        return False

    # -- layout ---------------------------------------------------------------------------
    def _wid(self, name: str) -> str:
        return f"{self.PREFIX}-{name}"

    def _q(self, name: str) -> Any:
        return self.query_one(f"#{self._wid(name)}")

    @property
    def record_list(self) -> RecordList:
        return self.query_one(f"#{self._wid('list')}", RecordList)

    def compose(self) -> ComposeResult:
        yield ScreenBar()
        yield AlertBanner()
        with Horizontal(id="topbar"):
            yield Label(id=self._wid("scope"), classes="sig-scope")
            yield Label(" PAUSED ", id=self._wid("paused"), classes="sig-paused")
        with Horizontal(classes="sig-body"):
            yield OptionList(id=self._wid("servers"), classes="sig-servers")
            with Vertical(classes="sig-main"):
                yield Input(placeholder=self.SEARCH_HINT, id=self._wid("filter"),
                            classes="sig-filter")
                yield Static(id=self._wid("header"), classes="sig-header")
                yield RecordList(self.render_row, id=self._wid("list"), classes="sig-list")
                with VerticalScroll(id=self._wid("detail"), classes="sig-detail"):
                    yield Static(id=self._wid("detail-body"))
                yield Static(id=self._wid("empty"), classes="sig-empty")
        yield StatusLine(id=self._wid("status"), classes="sig-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._q("filter").display = False
        detail = self._q("detail")
        detail.display = False
        self._q("empty").display = False
        self._q("header").display = self.header(80) is not None
        self._q("servers").can_focus = False
        self.record_list.empty_text = Text(f"reading {self.SIGNAL}…", style="italic dim")
        self.watch(self.app, "paused", self._paused_changed, init=False)
        self._show_servers()
        self._show_scope()
        self._show_paused()
        self._show_status()
        self.record_list.focus()
        self.host.sources.use(self.PREFIX, self)  # the Logs or the Spans source

    def on_screen_resume(self) -> None:
        """Shown again: focus the list, never the hidden search box (Textual would give
        it the focus when the list is hidden, and the next digit key typed into it
        instead of switching screens)."""
        self.call_after_refresh(self._refocus)

    def _refocus(self) -> None:
        if not self._q("filter").display:
            self.set_focus(self.record_list if self.record_list.display else None)

    def on_resize(self) -> None:
        self.call_after_refresh(self._show_header)  # the list's new width is known then

    # -- reading --------------------------------------------------------------------------
    def on_records_arrived(self, message: RecordsArrived) -> None:
        batch = self.buffers.add(message.records)
        if batch:
            self.last_seq = max(self.last_seq, batch[-1].seq, batch[0].seq)
        if self.note_records(batch):
            self.record_list.invalidate()
            self.call_after_refresh(self._show_header)
        self.stats = message.stats
        self.error = message.error
        self.with_files = message.with_files
        if message.servers != self.known_servers or message.first:
            self.known_servers = message.servers
            self._show_servers()
        self.loaded = True
        if self.host.paused and not message.first:
            self.new_while_paused += len(batch)
            self._show_paused()
        elif message.first:
            self.rebuild()
        elif self.rebuilding:
            self.rebuild()  # the view being computed does not have these yet
        else:
            self.record_list.extend([r for r in batch if self._keep(r)], self.capacity)
        self._show_empty()
        self._show_status()

    # -- view ----------------------------------------------------------------------------
    def _keep(self, record: Any) -> bool:
        if self.server is not None and record.server != self.server:
            return False
        if self.query_text and self.query_text.lower() not in record.search_text:
            return False
        return self.keep(record)

    def rebuild(self) -> None:
        """Refill the list from the buffers (server, search or a filter changed).

        A small view is computed here; a large one (every server's 10,000 records, a
        first search that builds each record's search text) in a thread worker, from a
        snapshot of the buffers, so a keystroke never stalls the screen.
        """
        self._generation += 1
        needle = self.query_text.lower()
        keep_own = self.keep_fn()
        upto = self.paused_seq if self.host.paused else None  # paused: what was there

        def keep(r: Any) -> bool:
            return ((upto is None or r.seq <= upto)
                    and (not needle or needle in r.search_text) and keep_own(r))

        parts = self.buffers.snapshot(self.server)
        if sum(len(p) for p in parts) <= SYNC_VIEW_RECORDS:
            self._apply_view(self._generation,
                             merge_view(parts, self.time_of, keep, self.capacity))
        else:
            self.rebuilding = True
            self._compute_view(self._generation, parts, keep)

    @work(thread=True, exclusive=True, group="gridlogs-view", exit_on_error=False)
    def _compute_view(self, generation: int, parts: list[list[Any]],
                      keep: Callable[[Any], bool]) -> None:
        records = merge_view(parts, self.time_of, keep, self.capacity)
        self.app.call_from_thread(self._apply_view, generation, records)

    def _apply_view(self, generation: int, records: list[Any]) -> None:
        if generation != self._generation:
            return  # a newer rebuild is on its way
        self.rebuilding = False
        log = self.record_list
        filtered = bool(self.query_text) or self.filtered()
        log.empty_text = Text(
            f"no {self.NOUN}s match" if filtered
            else (f"reading {self.SIGNAL}…" if not self.loaded else f"no {self.NOUN}s yet"),
            style="italic dim")
        log.invalidate()  # the server column comes and goes with the selection
        log.set_records(records, keep=log.selected, near=self.time_of)
        self._show_header()
        self._show_scope()
        self._show_status()

    def filtered(self) -> bool:
        """Whether the screen's own filter hides anything (for the empty message)."""
        return False

    def _show_header(self) -> None:
        box = self._q("header")
        width = self.record_list.scrollable_content_region.width or self.size.width
        text = self.header(width)
        box.display = text is not None
        if text is not None:
            box.update(text)

    def _show_empty(self) -> None:
        empty = not self.with_files and not len(self.buffers)
        box = self._q("empty")
        box.display = empty and self.loaded
        self.record_list.display = not box.display
        self._q("header").display = not box.display and self.header(80) is not None
        if box.display:
            problem = self.error or (f"no server has a {self.SIGNAL}.jsonl"
                                     if self.known_servers else "no server directories")
            box.update(empty_signal_message(self.host.source.root, self.SIGNAL, problem))

    def _show_servers(self) -> None:
        options = self.query_one(f"#{self._wid('servers')}", OptionList)
        names = [ALL, *self.known_servers]
        current = self.server or ALL
        options.clear_options()
        options.add_options([Option(_server_label(n, n == current, n in self.with_files
                                                  or n == ALL), id=n) for n in names])
        if current in names:
            options.highlighted = names.index(current)

    def _show_scope(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(self.PREFIX)
        text.append(" · ", style="dim")
        text.append(fmt.clean(self.server or "all servers"), style="bold #56b6c2")
        self.scope_extra(text)
        if self.query_text:
            text.append(" · search ", style="dim")
            text.append(fmt.clean(self.query_text), style="bold")
        self._q("scope").update(text)

    def _show_status(self) -> None:
        log = self.record_list
        st = self.stats
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.error:
            text.append(fmt.clean(self.error), style="#e06c75")
            text.append(" · ", style="dim")
        shown = len(log.records)
        text.append(f"{fmt.count(shown)} {self.NOUN}{'' if shown == 1 else 's'}", style="bold")
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
        self._q("status").update(text)

    def _paused_changed(self, paused: bool) -> None:
        if paused:
            self.new_while_paused = 0
            self.paused_seq = self.last_seq
        else:
            self.paused_seq = None
            self.rebuild()
        self._show_paused()
        self._show_status()

    def _show_paused(self) -> None:
        label = self._q("paused")
        label.display = self.host.paused
        if self.host.paused:
            label.update(f" paused, {fmt.count(self.new_while_paused)} new ")

    # -- actions ---------------------------------------------------------------------------
    def action_next_server(self, step: int) -> None:
        names: list[str | None] = [None, *self.known_servers]
        i = names.index(self.server) if self.server in names else 0
        self.pick_server(names[(i + step) % len(names)])

    def pick_server(self, server: str | None) -> None:
        if server == self.server:
            return
        self.server = server
        self.close_detail()
        self.record_list.cursor = None
        self.rebuild()
        self._show_servers()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == self._wid("servers"):
            oid = event.option.id
            self.pick_server(None if oid in (None, ALL) else oid)
            self.record_list.focus()

    def action_search(self) -> None:
        box = self._q("filter")
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == self._wid("filter"):
            self.query_text = event.value
            self.rebuild()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == self._wid("filter"):
            event.input.display = bool(event.value)
            self.record_list.focus()

    def action_detail(self) -> None:
        log = self.record_list
        if self.focused is not log:
            log.focus()
            return
        log.select()

    def on_record_list_selected(self, message: RecordList.Selected) -> None:
        record = message.record
        pane = self._q("detail")
        if pane.display and self.detail_record is record:
            self.close_detail()
            return
        self.detail_record = record
        title, body = self.detail(record)
        self._q("detail-body").update(body)
        pane.border_title = title
        pane.border_subtitle = "enter/esc close"
        pane.display = True
        pane.scroll_home(animate=False)
        self.call_after_refresh(self.record_list.keep_cursor_visible)
        self._show_status()

    COPY_WHAT = "log line"

    def copy_of(self, record: Any) -> str:
        """What ``y`` copies of a record: the log line, as slog's JSON handler writes it."""
        return as_json({"time": record.ts, "level": record.level, "msg": record.msg,
                        **record.attrs})

    def action_copy(self) -> None:
        """The record under the cursor (the newest while following)."""
        log = self.record_list
        record = log.selected or (log.rows[-1] if log.rows else None)
        copy_value(self.app, self.COPY_WHAT, None if record is None else self.copy_of(record))

    def close_detail(self) -> None:
        self._q("detail").display = False
        self._q("detail-body").update("")
        self.detail_record = None

    def action_back(self) -> None:
        """esc: close the detail pane, then clear the search."""
        box = self._q("filter")
        if self._q("detail").display:
            self.close_detail()
            return
        if box.display or self.query_text:
            box.value = ""
            box.display = False
            self.query_text = ""
            self.rebuild()
            self.record_list.focus()

    def on_virtual_list_followed(self) -> None:
        """``end`` while paused: following means live again."""
        if self.host.paused:
            self.host.paused = False

    def on_key(self) -> None:
        # The cursor moved (or follow resumed): the status line says so.
        self.call_after_refresh(self._show_status)


class LogsScreen(SignalScreen):
    """gridctl's logs: level badges, level filter keys, attributes in the detail pane."""

    SIGNAL = "logs"
    PREFIX = "logs"
    NOUN = "record"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", id="logs.search", key_display="/"),
        Binding("enter", "detail", "Detail", id="logs.detail"),
        Binding("l", "cycle_level", "Level", id="logs.level"),
        Binding("y", "copy", "Copy", id="logs.copy", show=False),
        Binding("s", "next_server(1)", "Server", id="logs.next-server"),
        Binding("S", "next_server(-1)", "Prev server", id="logs.prev-server", show=False),
        Binding("e", "toggle_errors", "Errors only", id="logs.errors", show=False),
        Binding("escape", "back", "Back", id="logs.back", show=False, key_display="esc"),
    ]

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        super().__init__(capacity)
        self.min_level: int | None = None
        self.server_want = SERVER_WANT  # the longest server name held (capped)

    def note_records(self, records: list[LogRecord]) -> bool:
        want = max((len(r.server) for r in records), default=0)
        if want <= self.server_want:
            return False
        self.server_want = min(SERVER_CAP, want)
        return True

    parse = staticmethod(parse_lines)

    @staticmethod
    def time_of(record: LogRecord) -> int:
        return record.ns

    def render_row(self, record: LogRecord, width: int) -> Text:
        return render_log_row(record, width, show_server=self.server is None,
                              server_want=self.server_want)

    def keep(self, record: LogRecord) -> bool:
        return self.min_level is None or record.level_no >= self.min_level

    def keep_fn(self) -> Callable[[LogRecord], bool]:
        level = self.min_level
        return lambda r: level is None or r.level_no >= level

    def filtered(self) -> bool:
        return self.min_level is not None

    def detail(self, record: LogRecord) -> tuple[Text, Text]:
        # A Text, never a str: a border title would parse markup in a server's name.
        return Text(f"{record.badge} · {fmt.clean(record.server)}"), detail_text(record)

    def scope_extra(self, text: Text) -> None:
        text.append(" · level", style="dim")
        text.append(" ")
        if self.min_level is None:
            text.append("all", style="bold")
        else:
            name = next(n for n in LEVEL_NAMES if LEVELS[n] == self.min_level)
            text.append(f" {name}+ ", style=LEVEL_STYLES[name])

    def action_cycle_level(self) -> None:
        i = LEVEL_CYCLE.index(self.min_level) if self.min_level in LEVEL_CYCLE else 0
        self.min_level = LEVEL_CYCLE[(i + 1) % len(LEVEL_CYCLE)]
        self.rebuild()

    def action_toggle_errors(self) -> None:
        """``e``: errors only, or everything again (as ``e`` on Traces)."""
        self.min_level = None if self.min_level == LEVELS["ERROR"] else LEVELS["ERROR"]
        self.rebuild()


def _server_label(name: str, current: bool, has_files: bool) -> Text:
    """A server in the selector: the current one marked, those without files dimmed."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("▶ " if current else "  ", style="bold #56b6c2")
    style = "bold #56b6c2" if current else ("" if has_files else "dim")
    text.append(fmt.clean(name), style=style)
    return text
