"""The Files screen (6): what gridctl keeps on disk, and wiping it.

One row per (server, signal) with files, from ``tokentop.store.gridctl.inventory`` over the
dashboard's telemetry root (``app.source.layout``, so ``--metrics-dir`` and
``GRIDCTL_HOME`` apply): size, file count, the span between the oldest and newest
modification time, and the last write; totals underneath. As in gridctl's inventory,
a stack's ``__skills__`` directory (skill usage) has rows too and can be wiped.

The files source (``tui/sources/files.py``, started when this screen is built) scans
in a thread worker: at once, then about every second while the screen is shown
and the dashboard follows its files (the app in tests and screenshots does not: one
scan, and another after a wipe). A scan that finds what the last one found posts
nothing; otherwise one ``InventoryScanned`` carries the whole inventory. Pausing
(space) freezes the table; scanning goes on.

``w`` wipes the row under the cursor (that server's signal), ``W`` every signal of
that server. Both open a modal that shows exactly the files the last scan listed for
the scope and deletes them only after ``wipe`` is typed; the deleting runs in a worker
too, and its outcome (with any file that could not be deleted) is the message line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Label, Static

from tokentop.store.gridctl.inventory import InventoryRecord, totals
from tokentop.store.gridctl.wipe import WipePlan, WipeReport, execute
from tokentop.tui import format as fmt
from tokentop.tui.screens import DashboardHost
from tokentop.tui.sources.files import SCAN_SECONDS, InventoryScanned
from tokentop.tui.widgets.alert_banner import AlertBanner
from tokentop.tui.widgets.cells import whole_items
from tokentop.tui.widgets.copy import copy_value
from tokentop.tui.widgets.files_table import FilesTable, local_time, span
from tokentop.tui.widgets.files_wipe import WipeModal
from tokentop.tui.widgets.key_footer import KeyFooter
from tokentop.tui.widgets.palette import palette
from tokentop.tui.widgets.screen_bar import ScreenBar
from tokentop.tui.widgets.status import StatusLine

if TYPE_CHECKING:
    from tokentop.tui.sources.files import FilesFeed



class WipeFinished(Message):
    """A wipe ran: what was planned and what happened."""

    def __init__(self, plan: WipePlan, report: WipeReport) -> None:
        super().__init__()
        self.plan = plan
        self.report = report


def _plural(n: int, word: str) -> str:
    return f"{fmt.count(n)} {word}" if n == 1 else f"{fmt.count(n)} {word}s"


class FilesScreen(Screen[None]):
    """The inventory table, its totals, the wipe keys and the last wipe's outcome."""

    DEFAULT_CSS = """
    #files-scope {
        width: 1fr;
        padding: 0 1;
    }
    #files-paused {
        background: $warning;
        color: $background;
        text-style: bold;
        margin-left: 1;
    }
    #files-message {
        width: 1fr;
        height: 1;
        padding: 0 1;
    }
    #files-table {
        height: 1fr;
    }
    #files-empty {
        height: 1fr;
        padding: 1 2;
    }
    #files-detail {
        height: auto;
        max-height: 10;
        border: round $primary 60%;
        border-title-color: $text-muted;
        padding: 0 1;
    }
    #files-detail.-none, FilesScreen.-short #files-detail {
        display: none;
    }
    #files-totals {
        width: 1fr;
        height: 1;
        padding: 0 1;
    }
    #files-status {
        width: 1fr;
        height: 1;
        padding: 0 1;
        background: $panel;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("w", "wipe_row", "Wipe row", id="files.wipe-row"),
        Binding("W", "wipe_server", "Wipe server", id="files.wipe-server"),
        Binding("o", "sort", "Sort", id="files.sort", show=False),
        Binding("O", "sort_reverse", "Reverse sort", id="files.sort-reverse", show=False),
        Binding("y", "copy", "Copy", id="files.copy", show=False),
    ]

    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (32, "-tall")]

    def __init__(self) -> None:
        super().__init__()
        self.records: list[InventoryRecord] | None = None  # the last scan shown
        self.pending: InventoryScanned | None = None  # arrived while paused
        self.error: str | None = None
        self.root_exists = True
        self.scans = 0  # complete scans delivered (tests wait on it)
        self.complete = False  # the rows shown are a whole scan (not its first rows)
        self.wipes = 0  # wipes finished (tests wait on it)
        self.last_report: WipeReport | None = None
        self.feed: FilesFeed | None = None  # the scanner, once the screen is built
        self._visible = True
        # The rescan a wipe asked for: its answer shows even while paused (None: none).
        self._after_wipe: int | None = None
        self._shown: dict[str, tuple[object, ...]] = {}  # what each label shows now

    @property
    def host(self) -> DashboardHost:
        return cast(DashboardHost, self.app)

    # -- layout ------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        # The first scan: right away, while the widgets mount.
        self.feed = cast("FilesFeed", self.host.sources.use("files", self))
        yield ScreenBar()
        yield AlertBanner()
        with Horizontal(id="topbar"):
            yield Label(id="files-scope")
            yield Label(" PAUSED ", id="files-paused")
        yield Label(id="files-message")
        yield FilesTable(id="files-table")
        yield Static(id="files-empty")
        yield Static(id="files-detail")
        yield Label(id="files-totals")
        yield StatusLine(id="files-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#files-paused", Label).display = False
        self.query_one("#files-message", Label).display = False
        self.query_one("#files-empty").display = False
        self.watch(self.app, "paused", self._paused_changed, init=False)
        self._paused_changed(self.host.paused)
        self._show_scope()
        self._show_status()
        self.query_one(FilesTable).focus()
        self.set_interval(SCAN_SECONDS, self._tick)

    def on_screen_suspend(self) -> None:
        self._set_visible(False)

    def on_screen_resume(self) -> None:
        if not self._visible:  # back from another screen: what changed meanwhile
            self._set_visible(True)
            self.rescan()

    def _set_visible(self, visible: bool) -> None:
        self._visible = visible
        if self.feed is not None:
            self.feed.visible = visible  # scan every second only while shown

    def _paused_changed(self, paused: bool) -> None:
        self.query_one("#files-paused", Label).display = paused
        if not paused and self.pending is not None:
            pending, self.pending = self.pending, None
            self._apply(pending)

    # -- scanning ------------------------------------------------------------------
    def rescan(self) -> int:
        """Scan again now (after a wipe; tests); the request number its answer carries."""
        return self.feed.rescan() if self.feed is not None else 0

    def on_inventory_scanned(self, message: InventoryScanned) -> None:
        # Only a scan that started after the wipe finished shows the wipe's result: one
        # already under way (the screen shown again as the modal closed) may predate it.
        after_wipe = self._after_wipe is not None and message.request >= self._after_wipe
        if self.host.paused and self.records is not None and not after_wipe:
            self.pending = message
            return
        if message.complete and after_wipe:
            self._after_wipe = None  # the user wiped: show the result, paused or not
        self.pending = None
        self._apply(message)

    def _apply(self, message: InventoryScanned) -> None:
        if not message.complete:
            self.call_after_refresh(self._first_rows_drawn)
        self.complete = message.complete
        if message.complete:
            self.scans += 1
        self.error = message.error
        self.root_exists = message.root_exists
        if message.records is not None:
            self.records = message.records
        self._show()

    def _first_rows_drawn(self) -> None:
        """The scanner waits for this before listing on (no GIL contention meanwhile)."""
        if self.feed is not None:
            self.feed.first_drawn.set()

    def _tick(self) -> None:
        """Ages ("3s ago") move with the clock, even when no file changed."""
        if self._visible and not self.host.paused and self.records:
            self.query_one(FilesTable).show(self.records, self.host.clock())
            self._show_detail()
            self._show_totals()

    # -- drawing ---------------------------------------------------------------------
    def _show(self) -> None:
        records = self.records or []
        table = self.query_one(FilesTable)
        empty = self.query_one("#files-empty", Static)
        table.display = bool(records)
        empty.display = not records
        if not records:
            self._put("#files-empty", self._empty_text())
        table.show(records, self.host.clock())
        self._show_detail()
        self._show_totals()
        self._show_status()

    def on_data_table_row_highlighted(self, _: FilesTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        """The files of the row under the cursor (tall screens): what ``w`` would delete."""
        detail = self.query_one("#files-detail", Static)
        record = self.query_one(FilesTable).selected
        detail.set_class(record is None, "-none")  # a class: -short screens hide it too
        if record is None:
            return
        title = f"{record.server} · {record.signal}"
        if record.is_skills:
            title += " · skill usage, not a server"
        detail.border_title = fmt.clean(title)
        now = self.host.clock()
        root = self.host.source.root
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, f in enumerate(sorted(record.files, key=lambda f: f.mtime, reverse=True)):
            if i:
                text.append("\n")
            text.append(f"{fmt.nbytes(f.size):>9}  ", style="bold")
            text.append(f"{local_time(min(f.mtime, now), now):>11}  ", style="dim")
            try:
                name = f.path.relative_to(root)
            except ValueError:
                name = f.path
            text.append(fmt.clean(name))
        self._put("#files-detail", text)

    def _empty_text(self) -> Text:
        root = self.host.source.root
        text = Text()
        if self.records is None and self.error is None:
            text.append("scanning ", style="dim")
            text.append(fmt.clean(root))
            text.append(" …", style="dim")
            return text
        if not self.root_exists:
            text.append("no telemetry directory: ", style="bold")
        else:
            text.append("no telemetry files under ", style="bold")
        text.append(fmt.clean(root))
        text.append("\n\ngridctl writes <stack>/<server>/{logs,metrics,traces}.jsonl there "
                    "when telemetry persistence is on.\nAnother root: tokentop --metrics-dir "
                    "DIR, or GRIDCTL_HOME (reads $GRIDCTL_HOME/.gridctl/telemetry).", style="dim")
        return text

    def _put(self, selector: str, text: Text) -> None:
        """Update a label only when its text changed: every update re-lays out the
        screen, and the table under it has hundreds of rows."""
        key = (text.plain, tuple(text.spans), str(text.style))
        if self._shown.get(selector) == key:
            return
        self._shown[selector] = key
        self.query_one(selector, Static).update(text)

    def _show_scope(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("files")
        text.append(" · gridctl telemetry on disk", style="dim")
        self._put("#files-scope", text)

    def _show_totals(self) -> None:
        records = self.records or []
        t = totals(records)
        line = Text(no_wrap=True, overflow="ellipsis")
        if not records:
            self._put("#files-totals", line)
            return
        now = self.host.clock()
        items = [Text.assemble(("listing files … " if not self.complete else "", "dim"),
                               ("total ", "dim"), (fmt.nbytes(t.size_bytes), "bold")),
                 Text(_plural(t.files, "file")), Text(_plural(t.servers, "server")),
                 Text(_plural(t.records, "signal"))]
        if t.oldest is not None and t.newest is not None:
            oldest = Text.assemble(("oldest ", "dim"), local_time(t.oldest, now))
            if self.size.width >= 100:
                oldest.append(f" ({fmt.ago(now - t.oldest)})")
            items.append(oldest)
            if self.size.width >= 100:
                items.append(Text.assemble(("span ", "dim"),
                                           span(min(t.newest, now) - t.oldest)))
        # Whole items only: never ``· oldest`` without its date, or a cut size.
        line = whole_items(items, max(20, self.size.width - 2))
        self._put("#files-totals", line)

    def _show_status(self) -> None:
        colors = palette(self.app)
        text = Text(no_wrap=True, overflow="ellipsis", style="dim")
        if self.error is not None:
            text.append(self.error, style=f"bold {colors.error}")
            text.append(" · ")
        text.append(fmt.clean(self.host.source.root))
        text.append(" · rescans every second" if self.host.follow else " · scanned once")
        text.append(" · w wipe row · W wipe server")
        self._put("#files-status", text)

    def _show_message(self, text: Text) -> None:
        label = self.query_one("#files-message", Label)
        label.display = True
        self._put("#files-message", text)

    # -- wiping ----------------------------------------------------------------------
    def _plan(self, server: str, signal: str) -> WipePlan | None:
        """The scope as the last scan listed it: what the modal shows is what goes."""
        records = [r for r in self.records or []
                   if r.server == server and (not signal or r.signal == signal)]
        if not records:
            return None
        return WipePlan(self.host.source.layout, server, signal, records)

    def action_sort(self) -> None:
        self.query_one(FilesTable).sort_next()

    def action_sort_reverse(self) -> None:
        self.query_one(FilesTable).sort_reverse()

    def action_copy(self) -> None:
        record = self.query_one(FilesTable).selected
        copy_value(self.app, "path", str(record.path) if record else None)

    def action_wipe_row(self) -> None:
        record = self.query_one(FilesTable).selected
        if record is not None:
            self._confirm(self._plan(record.server, record.signal))

    def action_wipe_server(self) -> None:
        record = self.query_one(FilesTable).selected
        if record is not None:
            self._confirm(self._plan(record.server, ""))

    def _confirm(self, plan: WipePlan | None) -> None:
        if plan is None:
            return

        def done(confirmed: bool | None) -> None:
            if confirmed:
                self._show_message(Text("wiping …", style="dim"))
                self._run_wipe(plan)

        self.app.push_screen(WipeModal(plan), done)

    @work(thread=True, group="files-wipe", exit_on_error=False)
    def _run_wipe(self, plan: WipePlan) -> None:
        try:
            report = execute(plan)
        except Exception as exc:  # a bug, not a file: say so, keep the screen up
            from tokentop.store.gridctl.wipe import FileError

            report = WipeReport(errors=[FileError(plan.layout.path, str(exc))])
        self.post_message(WipeFinished(plan, report))

    def on_wipe_finished(self, message: WipeFinished) -> None:
        self.wipes += 1
        self.last_report = report = message.report
        colors = palette(self.app)
        plan = message.plan
        text = Text(no_wrap=True, overflow="ellipsis")
        scope = ", ".join(plan.servers)
        what = f"{scope} {plan.signal}" if plan.signal else f"{scope} (all signals)"
        text.append("wiped ", style=f"bold {colors.cost}" if report.ok else "bold")
        text.append(fmt.clean(what))
        text.append(f": {_plural(len(report.deleted), 'file')}, "
                    f"{fmt.nbytes(report.freed_bytes)}")
        if report.errors:
            first = report.errors[0]
            text.append(f" · {_plural(len(report.errors), 'file')} not deleted: ",
                        style=f"bold {colors.error}")
            text.append(fmt.clean(f"{first.path}: {first.message}"))
            if len(report.errors) > 1:
                text.append(f" (+{len(report.errors) - 1} more)")
        self._show_message(text)
        self._after_wipe = self.rescan()
