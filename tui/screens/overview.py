"""The Overview: tokens and cost over a range, per server, live.

Everything on this screen is read from the store with the same queries the
headless ``tokentop metrics --json`` uses (``window`` and ``ring.buckets``/``total``),
so the two never disagree. The screen redraws only when the app reports a change
(``SourceChanged``, a few times a second at most) or the user changes the range,
the selection or the filter.

The source switch (``s``) draws the same charts from the usage store instead, or
both on one set of axes. The usage store's series is read by the app's usage worker
over the very window the ring's charts use (``UsageSeriesLoaded``); the screen never
touches SQLite itself.

gridctl removed its dollar-cost layer on 2026-08-07 (gridctl commit 5245a795): current
files carry tokens only. Where the window has tokens but no cost (or no file ever had
cost), the fleet's Cost card and chart come from the usage store, labelled so, and say
"not in files" when there is none, rather than show a $0 that means "unknown".

Under the server list, the tools panel shows gridctl's per-tool ``tool_usage`` (which
MCP tools burn the tokens) and each stack's ``__skills__`` skill usage, for the fleet
or the selected server: the rows ``tokentop metrics --json`` prints as ``tools`` and
``skills``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Input, Label

from tokentop.store.metrics import RANGES, MetricsSource, Window, window
from tokentop.store.metrics.query import skill_rows, tool_rows
from tokentop.store.ring import Point
from tokentop.tui import format as fmt
from tokentop.tui.screens import DashboardHost, SourceChanged, UsageLoaded, UsageSeriesLoaded
from tokentop.tui.widgets.alert_banner import AlertBanner
from tokentop.tui.widgets.chart import ChartData, Series, TimeChart
from tokentop.tui.widgets.chart_cursor import (
    CHART_BINDINGS,
    can_scroll_back,
    hide_cursor,
    move_cursor,
)
from tokentop.tui.widgets.copy import copy_value
from tokentop.tui.widgets.empty import EmptyState
from tokentop.tui.widgets.key_footer import KeyFooter
from tokentop.tui.widgets.kpi import KpiCard
from tokentop.tui.widgets.palette import palette
from tokentop.tui.widgets.range_bar import RangeBar, step_range
from tokentop.tui.widgets.screen_bar import ScreenBar
from tokentop.tui.widgets.server_list import ServerList, ServerRow
from tokentop.tui.widgets.source_bar import SOURCE_WORDS, SourceBar, step_source
from tokentop.tui.widgets.status import StatusBar
from tokentop.tui.widgets.tool_panel import ToolPanel

if TYPE_CHECKING:
    from tokentop.tui.sources.usage import UsageFeed


def token_axis(value: float) -> str:
    """Token axis labels: ``20k``, not ``20.0k`` (ticks are round anyway)."""
    return fmt.tokens(round(value)).replace(".0", "")


SCOPE_FIXED = 60  # columns of the top bar that are not the scope (title, source, range)


def _within(minute: int | None, win: Window) -> bool:
    """A counter reset inside the range: the cumulative total began again there."""
    return minute is not None and minute >= win.start


@dataclass(frozen=True)
class Frame:
    """The store as of one redraw: what the status line keeps while time passes."""

    files: int
    lines: int
    malformed: int
    last_update: float | None
    oldest_minute: int | None
    ahead: int = 0  # lines dated past the clock, held out of the charts


class OverviewScreen(Screen[None]):
    """KPI cards, two charts, the server list and a status line."""

    # Not Textual's default (the first focusable widget): that is the server filter box,
    # hidden until ``/``, and keys typed in the first second went into it ("no server
    # matches 'rrr'").
    AUTO_FOCUS = "#server-options"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "cycle_range(1)", "Range", id="overview.range-next"),
        Binding("R", "cycle_range(-1)", "Range back", id="overview.range-prev", show=False),
        Binding("u", "cycle_source(1)", "Source", id="overview.source-next"),
        Binding("U", "cycle_source(-1)", "Source back", id="overview.source-prev",
                show=False),
        Binding("slash", "filter", "Filter", id="overview.filter", key_display="/"),
        Binding("escape", "clear", "Clear", id="overview.clear", key_display="esc"),
        Binding("o", "sort", "Sort", id="overview.sort", show=False),
        Binding("O", "sort_reverse", "Reverse sort", id="overview.sort-reverse", show=False),
        Binding("y", "copy", "Copy", id="overview.copy", show=False),
        *CHART_BINDINGS,
    ]

    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [
        (0, "-narrow"), (100, "-wide"), (120, "-very-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (32, "-tall")]

    range_name: reactive[str] = reactive("30m", init=False)
    selected: reactive[str | None] = reactive(None, init=False, bindings=True)
    filter_text: reactive[str] = reactive("", init=False, bindings=True)
    data_source: reactive[str] = reactive("metrics", init=False, bindings=True)

    def __init__(self) -> None:
        super().__init__()
        self.frame: Frame | None = None
        self.usage_series: UsageSeriesLoaded | None = None  # the latest read, any range
        self.usage_error: str | None = None
        self.cost_from_usage = False  # the metrics view's cost comes from the usage store
        self.chart_end: int | None = None  # scrolled back (< >): the window's last minute

    @property
    def host(self) -> DashboardHost:
        return cast(DashboardHost, self.app)

    @property
    def source(self) -> MetricsSource:
        return self.host.source

    # -- layout ------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield ScreenBar()
        yield AlertBanner()
        with Horizontal(id="topbar"):
            yield Label(id="scope")
            yield SourceBar(id="source-bar")
            yield RangeBar(id="range-bar")
            yield Label(" PAUSED ", id="paused")
        yield Label(id="overview-message")
        with ContentSwitcher(initial="dashboard", id="body"):
            with Vertical(id="dashboard"):
                with Horizontal(id="kpis"):
                    yield KpiCard("Input", id="kpi-input")
                    yield KpiCard("Output", id="kpi-output")
                    yield KpiCard("Total", id="kpi-total")
                    yield KpiCard("Cost", id="kpi-cost")
                with Horizontal(id="main"):
                    with Vertical(id="charts"):
                        yield TimeChart("Token Usage Over Time", token_axis, id="tokens-chart")
                        yield TimeChart("Cost Over Time", fmt.usd_axis, id="cost-chart")
                    with Vertical(id="side"):
                        yield ServerList(id="servers")
                        yield ToolPanel(id="tools")
            yield EmptyState(id="empty")
        yield StatusBar(id="status")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#paused", Label).display = False
        self.query_one("#server-filter", Input).display = False
        self.query_one(RangeBar).value = self.range_name
        self.query_one(SourceBar).value = self.data_source
        self.query_one("#overview-message", Label).display = False
        self._catch_up_usage()
        self.watch(self.app, "paused", self._paused_changed, init=False)
        # Series colours come from the theme: redraw when the user switches themes.
        self.app.theme_changed_signal.subscribe(self, lambda _: self.refresh_view())
        self.set_interval(1.0, self._tick_status)
        self.query_one(ServerList).options.focus()
        self.refresh_view()

    # -- updates -----------------------------------------------------------------
    def on_source_changed(self, _: SourceChanged) -> None:
        self.refresh_view()

    def on_screen_resume(self) -> None:
        self._catch_up_usage()
        self._request_series()
        self.refresh_view()

    def on_usage_loaded(self, message: UsageLoaded) -> None:
        self.usage_error = message.error
        if self.data_source != "metrics":
            self.refresh_view()

    def on_usage_series_loaded(self, message: UsageSeriesLoaded) -> None:
        self.usage_series = message
        if self.data_source != "metrics" or self.cost_from_usage:
            self.refresh_view()

    def _catch_up_usage(self) -> None:
        """Take the usage source's latest reads: messages only reach the screens shown."""
        usage = self.usage
        if usage is None:
            return
        if usage.series is not None:
            self.usage_series = usage.series
        if usage.loaded is not None:
            self.usage_error = usage.loaded.error

    @property
    def usage(self) -> UsageFeed | None:
        """The usage source (None: no usage store); it starts with the app."""
        return cast("UsageFeed | None", self.host.sources.get("usage"))

    def _request_series(self) -> None:
        if self.usage is not None:
            wanted = self.data_source != "metrics" or self.cost_from_usage
            self.usage.request_series(self.range_name if wanted else None, self.chart_end)

    def watch_range_name(self, value: str) -> None:
        self.query_one(RangeBar).value = value
        self._request_series()
        self.refresh_view()

    def watch_data_source(self, value: str) -> None:
        self.query_one(SourceBar).value = value
        self._request_series()
        servers = self.query_one(ServerList)
        # The usage store has no servers, and no MCP tools.
        self.query_one("#side").display = servers.display = value != "usage"
        if value != "usage" and not self.app.focused:
            servers.options.focus()
        self.refresh_view()

    def watch_selected(self) -> None:
        self.refresh_view()

    def action_sort(self) -> None:
        self.query_one(ServerList).sort_next()

    def action_sort_reverse(self) -> None:
        self.query_one(ServerList).sort_reverse()

    def action_copy(self) -> None:
        copy_value(self.app, "server", self.query_one(ServerList).current)

    def watch_filter_text(self) -> None:
        self.refresh_view()

    def _paused_changed(self, paused: bool) -> None:
        self.query_one("#paused", Label).display = paused

    def _tick_status(self) -> None:
        if not self.host.paused:
            self._show_status()

    def refresh_view(self) -> None:
        """Query the store and redraw everything that depends on it."""
        if not self.is_mounted:
            return
        source = self.source
        ring = source.ring
        servers = ring.servers()
        switcher = self.query_one("#body", ContentSwitcher)
        # The usage store is drawn even when there is no gridctl to read.
        problem = self._empty_problem(servers) if self.data_source == "metrics" else None
        empty = problem is not None
        if problem is not None:
            self.query_one(EmptyState).show(source.root, problem, self.host.follow)
        if (switcher.current == "empty") != empty:
            switcher.current = "empty" if empty else "dashboard"
            self.query_one("#scope").display = not empty
            self.query_one(RangeBar).display = not empty
            self.refresh_bindings()
        stats = source.state.stats
        self.frame = Frame(stats.files, stats.lines, stats.malformed, stats.last_update,
                           ring.oldest_minute(), stats.ahead_of_clock)
        if self.selected is not None and self.selected not in servers:
            self.selected = None  # its directory went away; the watcher redraws
            return
        win = window(ring, self.range_name, self.window_end())
        self._show_scope()
        self._show_message()
        if self.data_source == "metrics":
            self._show_kpis(win)
            self._show_charts(win)
        else:
            self._show_usage(win)
        if self.data_source != "usage":
            self._show_servers(win, servers)
            self._show_tools()
        self._show_status()

    def _empty_problem(self, servers: list[str]) -> str | None:
        source = self.source
        if servers:
            return None
        if not source.root_exists():
            return "is not a directory" if source.root.exists() else "does not exist"
        if source.progress.replayed:
            return "holds no server directories yet"
        return None  # still reading: show the dashboard with its progress

    def _show_scope(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        against = "usage store" if self.data_source == "both" else "fleet"
        if self.data_source == "usage":
            text.append("usage store")
        elif self.selected is None:
            text.append("fleet")
            if self.data_source == "both":
                text.append(" vs usage store", style="dim")
        else:
            text.append(fmt.clean(self.selected), style="bold")
            text.append(f" vs {against}", style="dim")
        wide = self.size.width >= 100
        words = f" · {self._window_words(wide)}"
        # Narrower, the title, source bar and range bar leave the scope about this much:
        # the window is stated only whole (a dangling "· since" said nothing).
        if wide or text.cell_len + len(words) <= self.size.width - SCOPE_FIXED:
            text.append(words, style="dim")
        self.query_one("#scope", Label).update(text)
        self.query_one(SourceBar).tooltip = f"source: {SOURCE_WORDS[self.data_source]} (u)"

    def _window_words(self, wide: bool) -> str:
        """What the range covers, stated: every range is rolling, up to now (24 h is the
        last 1,440 minutes, as on the Usage screen, not 23 whole hours and this one)."""
        if self.range_name == "all":
            return fmt.range_label("all")
        win = window(self.source.ring, self.range_name, self.window_end())
        if self.chart_end is not None:  # the chart says where it ends; the scope, from when
            return f"scrolled back, from {fmt.local_stamp(win.start)}"
        start = fmt.local_dt(win.start)
        if start.date() == fmt.local_dt(win.end).date():
            since = start.strftime("%H:%M")
        elif self.range_name == "24h":
            # yesterday's weekday where there is room: no date order to guess
            since = start.strftime("%a %H:%M" if wide else "%H:%M")
        else:
            since = start.strftime("%b %d %H:%M" if wide else "%b %d")
        if not wide:
            return f"since {since}"
        return f"{fmt.range_label(self.range_name)}, rolling since {since}"

    def _show_message(self) -> None:
        """The usage store's trouble, on its own line, as the Usage screen shows it."""
        label = self.query_one("#overview-message", Label)
        text: Text | None = None
        if self.data_source != "metrics":
            colors = palette(self.app)
            if self.host.usage_path is None:
                text = Text("no usage store: tokentop --store PATH reads one",
                            style=f"bold {colors.warning}", no_wrap=True, overflow="ellipsis")
            elif self.usage_error is not None:
                text = fmt.safe(f"usage store: {self.usage_error}", f"bold {colors.error}")
        label.display = text is not None
        if text is not None:
            label.update(text)

    def _usage_values(self, minutes: list[int]) -> tuple[list[int], list[int]] | None:
        """The usage store's tokens and cost on the ring's buckets; None until it is read
        for this range (or when there is no store)."""
        loaded = self.usage_series
        if (self.host.usage_path is None or loaded is None
                or loaded.range_name != self.range_name or loaded.ending != self.chart_end):
            return None
        tokens = dict(zip(loaded.minutes, loaded.tokens, strict=True))
        cost = dict(zip(loaded.minutes, loaded.cost, strict=True))
        return [tokens.get(m, 0) for m in minutes], [cost.get(m, 0) for m in minutes]

    def _usage_quiet(self) -> str:
        """What an empty usage chart says: why there is nothing, not just 'nothing'."""
        if self.host.usage_path is None:
            return "no usage store"
        if self.usage_error is not None:
            return "usage store unreadable"
        return "reading usage store…"

    def _label_kpis(self, labels: tuple[str, str, str, str]) -> None:
        for card_id, label in zip(("#kpi-input", "#kpi-output", "#kpi-total", "#kpi-cost"),
                                  labels, strict=True):
            self.query_one(card_id, KpiCard).set_label(label)

    def _show_usage(self, win: Window) -> None:
        """Cards and charts for the usage store alone, or against the metrics files."""
        ring = self.source.ring
        colors = palette(self.app)
        fleet = ring.buckets(self.selected if self.data_source == "both" else None,
                             win.start, win.end, win.interval, dense=True)
        minutes = [p.minute for p in fleet]
        usage = self._usage_values(minutes)
        unit = "h" if win.interval >= 60 else "min"
        cards = {c: "–" for c in ("#kpi-input", "#kpi-output", "#kpi-total", "#kpi-cost")}
        token_series: list[Series] = []
        cost_series: list[Series] = []
        if self.data_source == "usage":
            self._label_kpis(("Tokens", "Cost", "Peak", "Active"))
            if usage is not None:
                tokens, cost = usage
                active = sum(1 for t in tokens if t)
                buckets = (win.end - win.start + 1) // win.interval  # 24 h, not 25 partial
                cards = {"#kpi-input": fmt.tokens(sum(tokens)),
                         "#kpi-output": fmt.usd(sum(cost)),
                         "#kpi-total": f"{fmt.tokens(max(tokens, default=0))}/{unit}",
                         "#kpi-cost": f"{active} of {buckets} {unit}"}
                token_series = [Series("tokens (usage store)", tokens, colors.input)]
                cost_series = [Series("cost (usage store)", cost, colors.cost)]
        else:
            who = "Fleet" if self.selected is None else "Server"
            name = "fleet" if self.selected is None else self.selected
            self._label_kpis((f"{who} tokens", f"{who} cost", "Usage tokens", "Usage cost"))
            metric_tokens = [p.total_tokens for p in fleet]
            metric_cost = [p.cost_micro_usd for p in fleet]
            cards["#kpi-input"] = fmt.tokens(sum(metric_tokens))
            token_series = [Series(name, metric_tokens, colors.input)]
            if self.source.progress.replayed and not self.source.cost_seen():
                cards["#kpi-output"] = "not in files"  # a current gridctl writes no cost
            else:
                cards["#kpi-output"] = fmt.usd(sum(metric_cost))
                cost_series = [Series(name, metric_cost, colors.cost)]
            if usage is not None:
                tokens, cost = usage
                cards["#kpi-total"] = fmt.tokens(sum(tokens))
                cards["#kpi-cost"] = fmt.usd(sum(cost))
                token_series.append(Series("usage store", tokens, colors.accent))
                cost_series.append(Series("usage store", cost, colors.accent))
        for card_id, value in cards.items():
            self.query_one(card_id, KpiCard).set_value(value)
        quiet = "no activity" if usage is not None else self._usage_quiet()
        ending, known = self._scrolled()
        self.query_one("#tokens-chart", TimeChart).show(
            ChartData(minutes, win.interval, token_series, quiet, "", ending, known))
        self.query_one("#cost-chart", TimeChart).show(
            ChartData(minutes, win.interval, cost_series, quiet, "", None, known))

    def _cost_missing(self, total: Point) -> bool:
        """Tokens but no cost, or no cost in any file (or none from the selected server):
        a gridctl without its cost layer (removed 2026-08-07), where $0 would mean
        "unknown", not "free"."""
        if not self.source.progress.replayed:
            return False  # still reading: the cost may be further on
        if self._server_never_costed():
            return True
        return total.cost_micro_usd == 0 and (
            total.total_tokens > 0 or not self.source.cost_seen())

    def _server_never_costed(self) -> bool:
        """The selected server never reported cost: its list row says ``—``, and so must
        the Cost card (it said ``$0.00`` when the range held no tokens of it)."""
        if self.selected is None:
            return False
        t = self.source.totals_snapshot().get(self.selected)
        return t is None or t.cost_micro_usd is None

    def _show_kpis(self, win: Window) -> None:
        total = self.source.ring.total(self.selected, win.start, win.end)
        missing = self._cost_missing(total)
        from_usage = missing and self.selected is None and self.host.usage_path is not None
        if from_usage != self.cost_from_usage:
            self.cost_from_usage = from_usage
            self._request_series()
        self._label_kpis(("Input", "Output", "Total", "Cost (usage)" if from_usage else "Cost"))
        self.query_one("#kpi-input", KpiCard).set_value(fmt.tokens(total.input_tokens))
        self.query_one("#kpi-output", KpiCard).set_value(fmt.tokens(total.output_tokens))
        self.query_one("#kpi-total", KpiCard).set_value(fmt.tokens(total.total_tokens))
        cost = fmt.usd(total.cost_micro_usd)
        if from_usage:
            minutes = [p.minute for p in self.source.ring.buckets(
                None, win.start, win.end, win.interval, dense=True)]
            usage = self._usage_values(minutes)
            cost = fmt.usd(sum(usage[1])) if usage is not None else "…"
        elif missing:
            # "—" as in the server list, where other servers report cost; "not in files"
            # where no file has any (a current gridctl)
            cost = "—" if self._server_never_costed() and self.source.cost_seen() \
                else "not in files"
        self.query_one("#kpi-cost", KpiCard).set_value(cost)

    def _missing_cost_series(self, minutes: list[int]) -> tuple[list[Series], str, str]:
        """The cost chart when gridctl wrote none: the usage store's series, or why there
        is none (legend word, and a note for the chart's body)."""
        if not self.cost_from_usage:
            where = "this server's" if self.selected else "these"
            return [], "no cost in gridctl files", (
                f"no cost in {where} gridctl files:\n"
                "gridctl writes tokens only\n"
                "since 2026-08-07 (5245a795).\n"
                "tokentop --store PATH: cost\n"
                "from agent logs (s: usage store)")
        usage = self._usage_values(minutes)
        if usage is None:
            return [], self._usage_quiet(), ""
        return [Series("cost (usage store)", usage[1], palette(self.app).cost)], "no cost", ""

    def _show_charts(self, win: Window) -> None:
        ring = self.source.ring
        colors = palette(self.app)
        fleet = ring.buckets(None, win.start, win.end, win.interval, dense=True)
        minutes = [p.minute for p in fleet]
        cost_quiet, cost_note = "no activity", ""
        if self.selected is None:
            token_series = [
                Series("input", [p.input_tokens for p in fleet], colors.input),
                Series("output", [p.output_tokens for p in fleet], colors.output),
            ]
            cost_series = [Series("cost (USD)", [p.cost_micro_usd for p in fleet], colors.cost)]
        else:
            mine: list[Point] = ring.buckets(self.selected, win.start, win.end, win.interval,
                                             dense=True)
            name = self.selected
            token_series = [
                Series("fleet", [p.total_tokens for p in fleet], colors.fleet),
                Series("input", [p.input_tokens for p in mine], colors.input),
                Series("output", [p.output_tokens for p in mine], colors.output),
            ]
            cost_series = [
                Series("fleet", [p.cost_micro_usd for p in fleet], colors.fleet),
                Series(name, [p.cost_micro_usd for p in mine], colors.cost),
            ]
        total = ring.total(self.selected, win.start, win.end)
        if self._cost_missing(total):
            cost_series, cost_quiet, cost_note = self._missing_cost_series(minutes)
        ending, known = self._scrolled()
        self.query_one("#tokens-chart", TimeChart).show(
            ChartData(minutes, win.interval, token_series, ending=ending, history_from=known))
        self.query_one("#cost-chart", TimeChart).show(
            ChartData(minutes, win.interval, cost_series, cost_quiet, cost_note, None, known))

    # -- the chart cursor and scrolling back (chart_cursor.py) ---------------------
    def window_end(self) -> int:
        """The last minute shown: now, or where ``<`` scrolled back to."""
        return self.host.now_minute() if self.chart_end is None else self.chart_end

    def _scrolled(self) -> tuple[int | None, int | None]:
        """(where a scrolled-back window ends, the ring's oldest minute) for the charts;
        (None, None) live. Every card and the server list follow the window shown."""
        if self.chart_end is None:
            return None, None
        return self.chart_end, self.source.ring.oldest_minute()

    def action_chart_cursor(self, step: int) -> None:
        move_cursor(list(self.query(TimeChart)), step)
        self.refresh_bindings()

    def action_chart_scroll(self, step: int) -> None:
        length = RANGES.get(self.range_name, (0, 1))[0]
        end = self.window_end() + step * length
        self.chart_end = None if end >= self.host.now_minute() else end
        self._request_series()
        self.refresh_view()
        self.refresh_bindings()

    def _show_servers(self, win: Window, servers: list[str]) -> None:
        ring = self.source.ring
        totals = self.source.totals_snapshot()
        needle = self.filter_text.casefold()
        rows = []
        for name in servers:
            if needle and needle not in name.casefold():
                continue
            buckets = ring.buckets(name, win.start, win.end, win.interval, dense=True)
            activity = [p.total_tokens for p in buckets]
            t = totals.get(name)
            rows.append(ServerRow(
                name=name,
                activity=activity,
                range_tokens=sum(activity),
                total_tokens=t.tokens.total_tokens if t else 0,
                total_cost_micro=t.cost_micro_usd if t else None,
                reset_in_range=_within(t.reset_minute if t else None, win),
                cost_reset_in_range=_within(t.cost_reset_minute if t else None, win),
            ))
        rows.sort(key=lambda r: (-r.range_tokens, -r.total_tokens, r.name))
        note = f"no server matches {self.filter_text!r}" if needle else ""
        label = "Live" if self.range_name == "30m" and self.chart_end is None \
            else self.range_name  # scrolled back (<) is not live
        server_list = self.query_one(ServerList)
        server_list.show(rows, self.selected, label, note)
        shown = f"{len(rows)} of {len(servers)}" if needle else str(len(servers))
        server_list.border_title = f"Servers ({shown})"

    def _show_tools(self) -> None:
        """gridctl's per-tool usage and the stacks' skill usage, for the fleet or a server."""
        stack = self.selected.split("/", 1)[0] if self.selected else None
        self.query_one(ToolPanel).show(
            tool_rows(self.source.tools_snapshot(), self.selected),
            skill_rows(self.source.skills_snapshot(), stack),
            self.selected, self.host.clock())

    def _show_status(self) -> None:
        frame = self.frame
        if frame is None:
            return
        status = self.query_one(StatusBar)
        wide = self.size.width >= 100
        if self.data_source == "usage":
            self._show_usage_status(status)
            return
        progress = self.source.progress
        colors = palette(self.app)
        problem = self.host.sources.metrics.error or self.source.error
        right = Text(no_wrap=True)
        right.append(f"{fmt.count(frame.files)} files · {fmt.count(frame.lines)} lines · ")
        right.append(f"{fmt.count(frame.malformed)} malformed",
                     style=f"bold {colors.warning}" if frame.malformed else "")
        if frame.ahead:
            right.append(f" · {fmt.count(frame.ahead)} ahead of clock",
                         style=f"bold {colors.warning}")
        if self.showing_empty:
            right = Text()  # nothing read: counters of zero say nothing the box does not
        elif frame.last_update is None:
            right.append("" if not progress.replayed else " · no data yet")
        else:
            updated = fmt.ago(self.host.clock() - frame.last_update)
            right.append(f" · updated {updated}" if wide else f" · {updated}")
        if not progress.replayed:
            left = Text(no_wrap=True)
            if progress.total_bytes:
                left.append(f"replaying history {progress.fraction:.0%}", style="bold")
                left.append(f" {fmt.nbytes(progress.done_bytes)} of "
                            f"{fmt.nbytes(progress.total_bytes)}", style="dim")
            else:
                left.append("reading history…", style="bold")
            status.show(left, right, progress.fraction)
            return
        if problem:
            left = fmt.safe(problem, f"bold {colors.error}")
        elif frame.oldest_minute is None:
            left = Text("watching for metrics…" if self.host.follow else "", style="dim")
        else:
            stamp = fmt.local_dt(frame.oldest_minute).strftime(
                "%Y-%m-%d %H:%M" if wide else "%b %d %H:%M")
            left = Text(f"persisted from {stamp}", no_wrap=True)
        status.show(left, right)

    def _show_usage_status(self, status: StatusBar) -> None:
        """Where the usage numbers come from: the metrics counters say nothing of them."""
        path = self.host.usage_path
        left = Text(no_wrap=True, overflow="ellipsis")
        if path is None:
            left.append("no usage store", style="dim")
        else:
            left.append("usage store ", style="dim")
            left.append(fmt.clean(path))
        right = Text(no_wrap=True)
        if path is not None:
            right.append("collecting agent logs" if self.host.usage_collect else "read-only")
        status.show(left, right)

    # -- actions -----------------------------------------------------------------
    def action_cycle_range(self, step: int) -> None:
        self.range_name = step_range(self.range_name, step)

    def action_cycle_source(self, step: int) -> None:
        self.data_source = step_source(self.data_source, step)

    def action_filter(self) -> None:
        box = self.query_one("#server-filter", Input)
        box.display = True
        box.focus()

    def action_clear(self) -> None:
        if hide_cursor(list(self.query(TimeChart))):
            self.refresh_bindings()
            return
        box = self.query_one("#server-filter", Input)
        if box.display or self.filter_text:
            box.value = ""
            box.display = False
            self.filter_text = ""
            self.query_one(ServerList).options.focus()
        else:
            self.selected = None

    def _can_scroll(self, step: int) -> bool:
        """``>`` while scrolled back; ``<`` over a range (``all`` holds everything) while
        the window still holds history (one step more says "no data before ...")."""
        if self.showing_empty or self.range_name not in RANGES:
            return False
        if step > 0:
            return self.chart_end is not None
        return can_scroll_back(self.window_end(), self.source.ring.oldest_minute())

    @property
    def showing_empty(self) -> bool:
        return self.query_one("#body", ContentSwitcher).current == "empty"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("cycle_range", "filter", "clear") and self.showing_empty:
            return False  # nothing to range over or filter: keep the footer honest
        if action == "chart_scroll":
            return self._can_scroll(cast(int, parameters[0]))
        if action == "clear" and any(c.cursor is not None for c in self.query(TimeChart)):
            return True  # esc hides the chart cursor first
        if action in ("filter", "clear") and self.data_source == "usage":
            return False  # no server list to filter or pick from
        if action == "clear":
            return True if (self.filter_text or self.selected) else None
        return True

    # -- events from widgets -----------------------------------------------------
    @on(Input.Changed, "#server-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()

    @on(Input.Submitted, "#server-filter")
    def _filter_done(self) -> None:
        box = self.query_one("#server-filter", Input)
        if not box.value.strip():
            box.display = False
        self.query_one(ServerList).options.focus()

    def on_server_list_picked(self, event: ServerList.Picked) -> None:
        self.selected = None if event.name == self.selected else event.name

    def on_range_bar_picked(self, event: RangeBar.Picked) -> None:
        self.range_name = event.range_name

    def on_source_bar_picked(self, event: SourceBar.Picked) -> None:
        self.data_source = event.source_name
