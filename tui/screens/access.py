"""The Access screen: airstore reads through an agent filesystem (``--access SOURCE``).

The access source (``tui/sources/access.py``, started the first time this screen is
built) pages and polls airstore's access-log API, or follows a file, in a thread worker
(``tokentop.store.access``: the summary ``tokentop access SOURCE --json`` prints); the
screen never touches the source itself: four times a second a timer compares the
source's version with what is drawn and, when it moved, redraws from one snapshot.
However fast reads arrive, the widgets update at most four times a second.

KPI cards (reads, cache-served share as airstore's ``GetSummary`` counts it, airstore's
compression ratio, tokentop's tokens saved, failed reads), a breakdown (``b``: outcome,
integration, cache source, strategy, origin, session, errors with their messages),
latency, fetch and compression times, tokens saved per minute over a range (``r``),
airstore's top paths by original tokens (with ``source_uri``) and a live tail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Label, Static

from tokentop.store.access import AccessApi, AccessSnapshot, AccessSource, Group
from tokentop.tui import format as fmt
from tokentop.tui.screens import DashboardHost
from tokentop.tui.widgets.access_text import (
    breakdown_text,
    errors_text,
    paths_text,
    tail_text,
    timings_text,
)
from tokentop.tui.widgets.alert_banner import AlertBanner
from tokentop.tui.widgets.cells import fit, whole_items
from tokentop.tui.widgets.chart import ChartData, Series, TimeChart
from tokentop.tui.widgets.chart_cursor import (
    CHART_BINDINGS,
    CURSOR_ESCAPE,
    can_scroll_back,
    hide_cursor,
    move_cursor,
)
from tokentop.tui.widgets.empty import howto_message
from tokentop.tui.widgets.key_footer import KeyFooter
from tokentop.tui.widgets.kpi import KpiCard
from tokentop.tui.widgets.palette import palette
from tokentop.tui.widgets.screen_bar import ScreenBar
from tokentop.tui.widgets.status import StatusLine

if TYPE_CHECKING:
    from tokentop.tui.sources.access import AccessFeed

TICK_SECONDS = 0.25
BREAKDOWNS = ("outcome", "integration", "cache_source", "strategy", "origin", "session",
              "errors")
BREAKDOWN_TITLES = {"outcome": "outcome", "integration": "integration",
                    "cache_source": "source", "strategy": "strategy", "origin": "origin",
                    "session": "session", "errors": "error message"}
RANGES = ("1h", "6h", "24h", "all")
RANGE_MINUTES = {"1h": 60, "6h": 360, "24h": 1440}
MAX_CHART_MINUTES = 7 * 1440

NO_LOG = "no access events: tokentop --access URL|FILE"


def empty_access_message() -> Text:
    return howto_message(NO_LOG, (
        ("tokentop --access https://HOST/api/v1/workspaces/WS",
         "airstore's access log (token in AIRSTORE_TOKEN)"),
        ("tokentop --access access.jsonl", "a saved log: events or API pages"),
        ("tokentop access SOURCE --text", "the same summary, headless (or --json)"),
        ("tokentop --demo", "built-in demo reads"),
    ), "airstore keeps access events in S2 and serves them at /access-log.")


def token_axis(value: float) -> str:
    return fmt.tokens(round(value)).replace(".0", "")


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"


class AccessPanel(Static):
    """A bordered text panel redrawn at its own width when resized."""

    def on_resize(self) -> None:
        screen = self.screen
        if isinstance(screen, AccessScreen):
            screen.redraw(force=True)


class AccessScreen(Screen[None]):
    """KPIs, a breakdown, tokens saved over time, top paths, a live tail."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "cycle_breakdown(1)", "Breakdown", id="access.breakdown-next"),
        Binding("B", "cycle_breakdown(-1)", "Breakdown back", id="access.breakdown-prev",
                show=False),
        Binding("r", "cycle_range(1)", "Range", id="access.range-next"),
        Binding("R", "cycle_range(-1)", "Range back", id="access.range-prev", show=False),
        *CHART_BINDINGS, CURSOR_ESCAPE,
    ]

    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (32, "-tall")]

    DEFAULT_CSS = """
    AccessScreen #access-scope { width: 1fr; padding: 0 1; }
    AccessScreen #access-paused {
        background: $warning; color: $background; text-style: bold; margin-left: 1;
    }
    AccessScreen #access-main { height: 1fr; }
    AccessScreen #access-left { width: 1fr; }
    AccessScreen #access-right { width: 1fr; }
    AccessScreen.-wide #access-left { width: 2fr; }
    AccessScreen.-wide #access-right { width: 3fr; }
    AccessScreen AccessPanel {
        border: round $panel-lighten-2;
        border-title-color: $text;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        background: $surface;
        padding: 0 1;
    }
    AccessScreen #access-breakdown { height: auto; max-height: 10; }
    AccessScreen #access-paths { height: 1fr; }
    AccessScreen #access-chart { height: 1fr; }
    AccessScreen #access-timings { height: 5; }
    AccessScreen #access-tail { height: 7; }
    AccessScreen.-tall #access-tail { height: 12; }
    AccessScreen #access-status { height: 1; padding: 0 1; color: $text-muted; }
    AccessScreen #access-empty {
        height: 1fr; padding: 1 2; border: round $panel-lighten-2; background: $surface;
    }
    """

    breakdown: reactive[str] = reactive("outcome", init=False)
    range_name: reactive[str] = reactive("1h", init=False)

    def __init__(self) -> None:
        super().__init__()
        self.access_log: AccessSource | None = None
        self.snap: AccessSnapshot | None = None
        self.drawn_version: object = None
        self.redraws = 0  # for tests: redraws are batched, never one per line
        self.chart_end: int | None = None  # the chart scrolled back (< >): its last minute

    @property
    def host(self) -> DashboardHost:
        return cast(DashboardHost, self.app)

    # -- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield ScreenBar()
        yield AlertBanner()
        with Horizontal(id="topbar"):
            yield Label(id="access-scope")
            yield Label(" PAUSED ", id="access-paused")
        with Horizontal(id="kpis"):
            yield KpiCard("Reads", id="akpi-reads")
            yield KpiCard("Cached", id="akpi-cache")
            yield KpiCard("Ratio", id="akpi-ratio")
            yield KpiCard("Saved", id="akpi-saved")
            yield KpiCard("Failed", id="akpi-failed")
        with Horizontal(id="access-main"):
            with Vertical(id="access-left"):
                yield AccessPanel(id="access-breakdown")
                yield AccessPanel(id="access-paths")
            with Vertical(id="access-right"):
                yield AccessPanel(id="access-timings")
                yield TimeChart("Tokens saved", token_axis, id="access-chart")
        yield AccessPanel(id="access-tail")
        yield Static(empty_access_message(), id="access-empty")
        yield StatusLine(id="access-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        path = self.host.access_path
        has_log = path is not None
        self.query_one("#access-paused", Label).display = False
        for wid in ("#kpis", "#access-main", "#access-tail"):
            self.query_one(wid).display = has_log
        self.query_one("#access-empty").display = not has_log
        self.query_one("#access-paths").border_title = "Top paths"
        self.query_one("#access-paths").border_subtitle = "tokens · reads · path"
        self.query_one("#access-timings").border_title = "Timings"
        self.query_one("#access-tail").border_title = "Live tail"
        self._set_titles()
        self.watch(self.app, "paused", self._paused_changed, init=False)
        self.app.theme_changed_signal.subscribe(self, lambda _: self.redraw(force=True))
        feed = cast("AccessFeed | None", self.host.sources.use("access", self))
        if feed is not None:
            self.access_log = feed.log
        self._show_scope()
        self.redraw(force=True)
        self.set_interval(TICK_SECONDS, self.redraw)

    def _paused_changed(self, paused: bool) -> None:
        self.query_one("#access-paused", Label).display = paused
        if not paused:
            self.redraw(force=True)

    # -- drawing -----------------------------------------------------------------------
    def redraw(self, force: bool = False) -> None:
        """Redraw from one snapshot if the log moved (or ``force``); not while paused."""
        log = self.access_log
        if log is None:
            self._show_status()
            return
        if self.host.paused and not force and self.snap is not None:
            return
        version = log.version
        if version == self.drawn_version and not force:
            return
        self.drawn_version = version
        if self.snap is None or self.snap.version != log.summary.version or force:
            self.snap = log.snapshot()
        self.redraws += 1
        snap = self.snap
        self._show_kpis(snap)
        self._show_breakdown(snap)
        self._show_paths(snap)
        self._show_timings(snap)
        self._show_chart(snap)
        self._show_tail(log)
        self._show_status()

    def _show_kpis(self, snap: AccessSnapshot) -> None:
        self.query_one("#akpi-reads", KpiCard).set_value(fmt.count(snap.reads))
        cache = percent(snap.cache_served_share)
        if self.size.width >= 110 and snap.reads:
            cache += f" ({fmt.count(snap.cache_served_reads)})"
        self.query_one("#akpi-cache", KpiCard).set_value(cache)
        ratio = snap.ratio  # airstore's compression_ratio: compressed / original
        self.query_one("#akpi-ratio", KpiCard).set_value("—" if ratio is None else f"{ratio:.2f}")
        self.query_one("#akpi-saved", KpiCard).set_value(  # tokentop's: original - delivered
            fmt.tokens(snap.tokens_saved) if snap.reads else "–")
        self.query_one("#akpi-failed", KpiCard).set_value(fmt.count(snap.failed_reads))

    def groups(self, snap: AccessSnapshot) -> tuple[Group, ...]:
        return {"outcome": snap.by_outcome, "integration": snap.by_integration,
                "cache_source": snap.by_cache_source, "strategy": snap.by_strategy,
                "origin": snap.by_origin, "session": snap.sessions}.get(self.breakdown, ())

    def _show_breakdown(self, snap: AccessSnapshot) -> None:
        panel = self.query_one("#access-breakdown", AccessPanel)
        width = max(20, panel.content_size.width)
        rows = 8 if self.size.height >= 32 else 6
        if self.breakdown == "errors":
            panel.update(errors_text(snap.errors, width, rows))
            return
        panel.update(breakdown_text(self.groups(snap), snap.reads, width,
                                    palette(self.app).input,
                                    styled=self.breakdown == "outcome", rows=rows))

    def _show_paths(self, snap: AccessSnapshot) -> None:
        panel = self.query_one("#access-paths", AccessPanel)
        height = max(1, panel.content_size.height)
        panel.update(paths_text(snap.top_paths[:height], max(20, panel.content_size.width)))
        panel.border_title = f"Top paths of {fmt.count(snap.paths)} by tokens"

    def _show_timings(self, snap: AccessSnapshot) -> None:
        panel = self.query_one("#access-timings", AccessPanel)
        panel.update(timings_text(snap.timings, max(20, panel.content_size.width)))

    def _chart_span(self, snap: AccessSnapshot) -> tuple[int, int]:
        """(first, last) minute: the range ending now, or at the last read if the log
        is older than the range (a log from yesterday still shows its shape)."""
        now = self.host.now_minute()
        last = snap.last_ts // 60_000 if snap.last_ts is not None else now
        end = now if last >= now - RANGE_MINUTES.get(self.range_name, 0) else last
        if self.chart_end is not None and self.range_name != "all":
            end = self.chart_end
        if self.range_name == "all":
            first = snap.first_ts // 60_000 if snap.first_ts is not None else end - 59
            end = max(end, last)
            first = max(first, end - MAX_CHART_MINUTES + 1)
            return first, end
        return end - RANGE_MINUTES[self.range_name] + 1, end

    def _show_chart(self, snap: AccessSnapshot) -> None:
        first, last = self._chart_span(snap)
        saved = {p.minute: p.tokens_saved for p in snap.per_minute if first <= p.minute <= last}
        minutes = list(range(first, last + 1))
        values = [max(0, saved.get(m, 0)) for m in minutes]
        colors = palette(self.app)
        chart = self.query_one("#access-chart", TimeChart)
        words = fmt.range_label(self.range_name)
        if self.chart_end is not None:
            words = "scrolled back"
        elif last < self.host.now_minute() and self.range_name != "all":
            words = words.replace("last", "the log's last")  # an old log ends where it ends
        chart.border_title = f"Saved (tokentop) · {words}"
        # Scrolled back, the minutes before the oldest the summary keeps are unknown.
        known = snap.per_minute[0].minute if snap.per_minute else self.host.now_minute()
        chart.show(ChartData(minutes, 1, [Series("tokens saved", values, colors.cost)],
                             quiet="no reads in this range",
                             ending=self.chart_end,
                             history_from=None if self.chart_end is None else known))

    def _show_tail(self, log: AccessSource) -> None:
        panel = self.query_one("#access-tail", AccessPanel)
        height = max(1, panel.content_size.height)
        panel.update(tail_text(log.recent(height), max(20, panel.content_size.width)))

    def _show_scope(self) -> None:
        """``access · cards: all reads · chart: last hour · NAME``: ``r`` moves the
        chart only (airstore's summary, like ``GetSummary``, covers the whole log), and
        the top bar says so before the source's name (cut first on a short line)."""
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("access")
        if self.host.access_path is not None:
            text.append(" · ", style="dim")
            if self.range_name == "all":
                text.append("cards, chart: all reads", style="bold")
            else:
                text.append("cards: all reads", style="bold")
                text.append(" · ", style="dim")
                text.append(f"chart: {fmt.range_label(self.range_name)}"
                            if self.chart_end is None else
                            f"chart: {self.range_name} scrolled back", style="bold")
        if self.access_log is not None:  # a URL without its credentials or query
            room = self.size.width - len(" tokentop ") - 2 - len(text) - 3
            name = fmt.clean(self.access_log.name)
            if room >= min(len(name), 8):  # whole, or cut with … (never mid-word bare)
                text.append(f" · {fit(name, room).rstrip()}", style="dim")
        self.query_one("#access-scope", Label).update(text)

    def on_resize(self) -> None:
        self._show_scope()

    def _show_status(self) -> None:
        label = self.query_one("#access-status", Label)
        text = Text(no_wrap=True, overflow="ellipsis")
        log = self.access_log
        if log is None:
            text.append("no access-event log", style="dim")
            label.update(text)
            return
        st = log.stats
        is_api = isinstance(log, AccessApi)
        words, style = {
            "connected": (("polling" if is_api else "following") if log.follow
                          else "reading", "bold #98c379"),
            "ended": ("read to the end", "bold"),
            "failed": ("failed", "bold #e06c75"),
            "reconnecting": ("retrying" + ("" if st.retry_in is None
                                           else f" in {st.retry_in:.0f} s"), "bold #e5c07b"),
        }.get(st.state, ("connecting" if is_api else "waiting for the file", "bold #e5c07b"))
        items = [Text.assemble(("● ", style), (words, style))]
        snap = self.snap
        if snap is not None:
            items.append(Text(f"{fmt.count(snap.reads)} reads", style="dim"))
            if snap.last_ts is not None:
                ago = self.host.clock() - snap.last_ts / 1000
                items.append(Text(f"last {fmt.ago(ago)}", style="dim"))
        if snap is not None and snap.duplicates:
            dups = snap.duplicates
            items.append(Text(f"{fmt.count(dups)} duplicate{'s' * (dups != 1)}", style="dim"))
        if st.malformed:
            items.append(Text(f"{fmt.count(st.malformed)} malformed", style="bold #e06c75"))
        if log.resets:
            items.append(Text(f"rewritten ×{log.resets}", style="dim"))
        tail = None
        if st.last_error and st.state != "connected":
            tail = Text(fmt.clean(st.last_error), style="#e06c75")
        elif st.last_malformed:
            tail = Text.assemble(("last bad line: ", "dim"),
                                 (fmt.clean(st.last_malformed), "dim"))
        # Whole counts only at the edge; the message last, cut with … if need be.
        text = whole_items(items, max(20, self.size.width - 2), tail=tail)
        label.update(text)

    def _set_titles(self) -> None:
        panel = self.query_one("#access-breakdown")
        panel.border_title = f"By {BREAKDOWN_TITLES[self.breakdown]}"
        following = BREAKDOWNS[(BREAKDOWNS.index(self.breakdown) + 1) % len(BREAKDOWNS)]
        panel.border_subtitle = f"b: {BREAKDOWN_TITLES[following]} next"

    # -- actions -----------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("cycle_breakdown", "cycle_range"):
            return self.host.access_path is not None  # nothing to break down without a log
        if action == "chart_scroll":
            return self._can_scroll(cast(int, parameters[0]))
        return True

    def watch_breakdown(self) -> None:
        self._set_titles()
        self.redraw(force=True)

    def watch_range_name(self) -> None:
        self._show_scope()
        self.redraw(force=True)

    def action_cycle_breakdown(self, step: int) -> None:
        i = BREAKDOWNS.index(self.breakdown)
        self.breakdown = BREAKDOWNS[(i + step) % len(BREAKDOWNS)]

    # -- the chart cursor and scrolling back (chart_cursor.py); the cards stay "all
    # reads" (airstore's summary covers the whole log) and the scope says so.
    def action_chart_cursor(self, step: int) -> None:
        move_cursor(list(self.query(TimeChart)), step)

    def action_chart_cursor_off(self) -> None:
        hide_cursor(list(self.query(TimeChart)))

    def _can_scroll(self, step: int) -> bool:
        if self.snap is None or self.range_name not in RANGE_MINUTES:
            return False
        if step > 0:
            return self.chart_end is not None
        known = self.snap.per_minute[0].minute if self.snap.per_minute else None
        return can_scroll_back(self._chart_span(self.snap)[1], known)

    def action_chart_scroll(self, step: int) -> None:
        if self.snap is None or self.range_name not in RANGE_MINUTES:
            return
        shown = self._chart_span(self.snap)[1]  # where the chart ends (scrolled or not)
        self.chart_end = None
        live = self._chart_span(self.snap)[1]  # now, or the old log's last read
        end = shown + step * RANGE_MINUTES[self.range_name]
        self.chart_end = None if end >= live else end
        self._show_scope()
        self.redraw(force=True)
        self.refresh_bindings()

    def action_cycle_range(self, step: int) -> None:
        i = RANGES.index(self.range_name)
        self.range_name = RANGES[(i + step) % len(RANGES)]
