"""The Traces screen: an LLM gateway's traces and analytics (``--traces PATH|URL``).

Everything is read through ``tokentop.store.traces`` (the ongoingai gateway's SQLite file or
PostgreSQL database, read-only) in async workers: the store's driver does the I/O
off the event loop, and every result lands in the widgets as one update. The traces
source (``tui/sources/traces.py``, started when this screen is first shown) holds the
connection and says when traces arrived.

Two views (``v``):

- **traces**: a table of traces, newest first, paged by the store's keyset cursor
  (``]`` next page, ``[`` back: the cursors of the pages seen are kept on a stack),
  filtered by provider (``f``), model (``m``), status (``s``) and, when the store holds
  more than one, tenant (``t``: the gateway's org_id/workspace_id, shown in a Tenant
  column while more than one is in view), errors only (``e``: 4xx and 5xx), a search
  (``/``: id, group, provider, model, route or key, any case), or a value picked from a
  list (``p``); ``o`` sorts every page by latency, cost or tokens, ``O`` reverses
  (oldest first, fastest, cheapest: the store sorts, store/traces/order.py; the sort
  key is marked in the header and the filter line). ``enter`` opens the trace: headers
  (credentials redacted) and bodies, pretty-printed. The first page
  refreshes itself every few seconds, so new traces appear at the top.
- **analytics**: latency percentile bars and error rates per model, tokens and cost
  over time per hour, day or week (``b``).

KPI cards (requests, tokens, cost, error rate, p95 latency over the analytics
window) sit above both; they and the analytics follow the provider and model filters,
while the status, errors-only and search filters narrow the list alone (the gateway's
analytics have no such filters), which the filter line says while one is on.
Everything (cards, groups, percentiles, the list) is scoped to the tenant chosen
(``tokentop --org ORG --workspace WS``, then ``t``), as the gateway's own analytics
scope a caller (ongoingai/gateway internal/api/tenant_scope.go). A queue-pressure badge
from the gateway's pipeline diagnostics (``--diagnostics``) sits in the top bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, TypeVar, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Input, Label, Static

from tokentop.store.traces import (
    AnalyticsFilter,
    CostPoint,
    CostSummary,
    ErrorRateStats,
    LatencyStats,
    TenantStats,
    Trace,
    TraceFilter,
    TracePage,
    TraceRow,
    TraceStore,
    TraceStoreError,
    UsagePoint,
    UsageSummary,
)
from tokentop.tui import format as fmt
from tokentop.tui.screens import DashboardHost
from tokentop.tui.sources import SourceUpdated
from tokentop.tui.sources.traces import dashboard_scope
from tokentop.tui.widgets.alert_banner import AlertBanner
from tokentop.tui.widgets.chart import ChartData, Series, TimeChart
from tokentop.tui.widgets.chart_cursor import CHART_BINDINGS, hide_cursor, move_cursor
from tokentop.tui.widgets.copy import copy_value
from tokentop.tui.widgets.empty import howto_message
from tokentop.tui.widgets.key_footer import KeyFooter
from tokentop.tui.widgets.kpi import KpiCard
from tokentop.tui.widgets.palette import palette
from tokentop.tui.widgets.screen_bar import ScreenBar
from tokentop.tui.widgets.sorting import SortKey, SortState
from tokentop.tui.widgets.status import StatusLine
from tokentop.tui.widgets.trace_cards import (
    count_spellings,
    fit_card,
    rate_spellings,
    usd_spellings,
)
from tokentop.tui.widgets.trace_picker import Choice, FilterPicker
from tokentop.tui.widgets.trace_text import (
    clip_head,
    detail_text,
    errors_text,
    latency_text,
    local_time,
    ms,
    status_style,
    usd,
)

if TYPE_CHECKING:
    from tokentop.tui.sources.traces import TracesFeed

T = TypeVar("T")

PAGE_SIZE = 50
REFRESH_SECONDS = 3.0  # the diagnostics badge (the first page: tui/sources/traces.py)
ANALYTICS_SECONDS = 15.0
RETRY_SECONDS = 5.0  # while the store cannot be read
ANALYTICS_MAX_AGE = 300.0  # seconds: re-read even without new traces
BUCKETS = ("hour", "day", "week")
BUCKET_MINUTES = {"hour": 60, "day": 1440, "week": 10080}
WINDOWS = {"hour": timedelta(hours=48), "day": timedelta(days=14), "week": timedelta(weeks=12)}
WINDOW_WORDS = {"hour": "last 48 hours", "day": "last 14 days", "week": "last 12 weeks"}
STATUSES: tuple[int | None, ...] = (None, 200, 400, 401, 403, 404, 429, 500, 502, 503, 529)
TENANT_WIDTH = 14
WIDE_TABLE = 115  # a table this wide adds Provider, Key and Route (8 cells at least)
ERROR_STATUS = 400  # errors only: every 4xx and 5xx
# The list's orders (``o``; ``O`` reverses), each the store's across every page: newest
# first (the gateway's own order), then by a column, largest first.
SORT_KEYS: tuple[SortKey[TraceRow], ...] = (
    SortKey("time", "newest"), SortKey("latency", "latency"), SortKey("cost", "cost"),
    SortKey("tokens", "tokens"))
STORE_ORDERS = {"time": "created", "latency": "latency", "cost": "cost", "tokens": "tokens"}
SEARCH_HINT = "search: id, group, provider, model, route or key · enter applies · esc"
PRESSURE_STYLES = {"ok": "#98c379", "elevated": "#e5c07b", "high": "#d19a66",
                   "saturated": "#e06c75"}

NO_STORE = "no trace store: tokentop --traces PATH|postgresql://..."


def empty_traces_message() -> Text:
    return howto_message(NO_STORE, (
        ("tokentop --traces ~/.ongoingai/traces.db", "an ongoingai gateway's SQLite store"),
        ("tokentop --traces postgresql://user@host/db", "its PostgreSQL store"),
        ("tokentop --traces DB --diagnostics http://HOST:8080", "plus queue pressure"),
        ("tokentop --demo", "a built-in demo gateway"),
    ), "The store is opened read-only; header credentials are never shown.")


@dataclass(frozen=True)
class Analytics:
    """One read of everything the analytics view and the KPI cards show."""

    bucket: str
    since: datetime
    until: datetime
    usage: UsageSummary
    cost: CostSummary
    overall_errors: ErrorRateStats | None
    overall_latency: LatencyStats | None
    latency: list[LatencyStats]
    errors: list[ErrorRateStats]
    usage_series: list[UsagePoint]
    cost_series: list[CostPoint]
    providers: list[str]
    models: list[str]
    tenants: list[TenantStats]  # all time, within the --org/--workspace scope
    filters: tuple[str | None, str | None] = (None, None)  # (provider, model) of the read
    ending: datetime | None = None  # scrolled back (<): where the window ends (None: now)


def bucket_floor(dt: datetime, bucket: str) -> datetime:
    """The start of ``dt``'s bucket (UTC; weeks start on Monday)."""
    dt = dt.astimezone(UTC)
    if bucket == "hour":
        return dt.replace(minute=0, second=0, microsecond=0)
    day = dt.replace(hour=0, minute=0, second=0, microsecond=0)
    return day if bucket == "day" else day - timedelta(days=day.weekday())


def token_axis(value: float) -> str:
    return fmt.tokens(round(value)).replace(".0", "")


class TracesScreen(Screen[None]):
    """KPIs; the trace table with a detail pane, or the analytics; the status line."""

    # The list, not Textual's default (the first focusable widget: the search box,
    # hidden until ``/``): keys typed before on_mount ran went into it.
    AUTO_FOCUS = "#traces-table"

    BINDINGS: ClassVar[list[BindingType]] = [
        # One key, two bindings: the footer names the view ``v`` leads to.
        Binding("v", "show('analytics')", "Analytics", id="traces.analytics"),
        Binding("v", "show('list')", "Traces", id="traces.list"),
        Binding("right_square_bracket", "next_page", "Next", id="traces.next-page",
                key_display="]"),
        Binding("left_square_bracket", "prev_page", "Prev", id="traces.prev-page",
                key_display="["),
        Binding("f", "cycle_provider", "Provider", id="traces.provider"),
        Binding("m", "cycle_model", "Model", id="traces.model"),
        Binding("c", "cycle_status", "Status", id="traces.status"),
        Binding("t", "cycle_tenant", "Tenant", id="traces.tenant"),
        Binding("e", "toggle_errors", "Errors only", id="traces.errors", show=False),
        Binding("slash", "search", "Search", id="traces.search", show=False,
                key_display="/"),
        Binding("p", "pick", "Pick filter", id="traces.pick", show=False),
        Binding("o", "sort", "Sort", id="traces.sort", show=False),
        Binding("O", "sort_reverse", "Reverse sort", id="traces.sort-reverse", show=False),
        Binding("y", "copy", "Copy", id="traces.copy", show=False),
        Binding("x", "clear_filters", "Clear filters", id="traces.clear", show=False),
        Binding("g", "cycle_bucket", "Bucket", id="traces.bucket"),
        Binding("escape", "close_detail", "Close", id="traces.close", show=False,
                key_display="esc"),
        *CHART_BINDINGS,
    ]

    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (32, "-tall")]

    DEFAULT_CSS = """
    TracesScreen #traces-scope { width: 1fr; padding: 0 1; }
    TracesScreen #traces-scope, TracesScreen #traces-filters, TracesScreen #traces-status {
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    TracesScreen #traces-queue { width: auto; padding: 0 1; text-style: bold; }
    TracesScreen #traces-paused {
        background: $warning; color: $background; text-style: bold; margin-left: 1;
    }
    TracesScreen #traces-filters { width: 100%; height: 1; padding: 0 1; background: $boost; }
    TracesScreen #traces-search {
        height: 1; border: none; padding: 0 1; background: $boost; color: $text;
    }
    TracesScreen #traces-message { height: auto; max-height: 6; padding: 0 1; }
    TracesScreen #traces-list { height: 1fr; }
    TracesScreen #traces-table {
        width: 1fr; height: 1fr; border: round $panel-lighten-2; background: $surface;
    }
    TracesScreen #traces-table:focus { border: round $primary; }
    TracesScreen #traces-detail {
        width: 1fr; height: 1fr; border: round $primary; background: $surface;
        padding: 0 1; border-title-style: bold; border-subtitle-color: $text-muted;
    }
    TracesScreen.-wide #traces-detail { width: 3fr; }
    TracesScreen.-wide #traces-table { width: 4fr; }
    TracesScreen #traces-analytics { height: 1fr; }
    TracesScreen .traces-row { height: 1fr; }
    TracesScreen .traces-panel {
        width: 1fr; height: 1fr; border: round $panel-lighten-2; background: $surface;
        padding: 0 1; border-title-color: $text; border-title-style: bold;
        border-subtitle-color: $text-muted;
    }
    TracesScreen #traces-status { width: 100%; height: 1; padding: 0 1; color: $text-muted; }
    TracesScreen #traces-empty {
        height: 1fr; padding: 1 2; border: round $panel-lighten-2; background: $surface;
    }
    """

    showing: reactive[str] = reactive("list", init=False)
    bucket: reactive[str] = reactive("hour", init=False)

    def __init__(self) -> None:
        super().__init__()
        self.feed: TracesFeed | None = None  # the connection and its change token
        self.provider: str | None = None
        self.model: str | None = None
        self.status: int | None = None
        self.errors_only = False
        self.search: str | None = None
        self.sort: SortState[TraceRow] = SortState(SORT_KEYS)
        # The scope given on the command line, and the tenant chosen within it (t).
        self.base_scope: tuple[str | None, str | None] = dashboard_scope()
        self.tenant: tuple[str, str] | None = None
        self.cursors: list[str | None] = [None]  # the cursor of every page seen
        self.page: TracePage | None = None
        self.rows: list[TraceRow] = []
        self.detail: Trace | None = None
        self.analytics: Analytics | None = None
        self.chart_end: datetime | None = None  # analytics scrolled back (< >): its end
        self.diagnostics: object | None = None
        self.diagnostics_error: str | None = None
        self.error: str | None = None
        self.loaded_at: datetime | None = None
        self.pages_loaded = 0  # for tests: how many page reads landed
        self._version: str | None = None  # the store's change token at the last page read
        self._analytics_stale = False
        self._columns_tenant = False  # whether the table has a Tenant column
        self._wide_columns = False  # whether it has the Provider, Key and Route columns
        self._tenant_list: list[TenantStats] = []
        self._tenants_at: float | None = None  # host clock of the last tenants read

    @property
    def host(self) -> DashboardHost:
        return cast(DashboardHost, self.app)

    # -- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield ScreenBar()
        yield AlertBanner()
        with Horizontal(id="topbar"):
            yield Label(id="traces-scope")
            yield Label(id="traces-queue")
            yield Label(" PAUSED ", id="traces-paused")
        with Horizontal(id="kpis"):
            yield KpiCard("Requests", id="tkpi-requests")
            yield KpiCard("Tokens", id="tkpi-tokens")
            yield KpiCard("Cost", id="tkpi-cost")
            yield KpiCard("Errors", id="tkpi-errors")
            yield KpiCard("p95", id="tkpi-p95")
        yield Label(id="traces-filters")
        yield Input(placeholder=SEARCH_HINT, id="traces-search")
        yield Static(id="traces-message")
        with Horizontal(id="traces-list"):
            yield DataTable(id="traces-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="traces-detail"):
                yield Static(id="traces-detail-body")
        with Vertical(id="traces-analytics"):
            with Horizontal(classes="traces-row"):
                yield Static(id="traces-latency", classes="traces-panel")
                yield Static(id="traces-errors", classes="traces-panel")
            with Horizontal(classes="traces-row"):
                yield TimeChart("Tokens", token_axis, id="traces-tokens-chart")
                yield TimeChart("Cost", fmt.usd_axis, id="traces-cost-chart")
        yield Static(empty_traces_message(), id="traces-empty")
        yield StatusLine(id="traces-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        has_store = self.host.traces_target is not None
        for wid in ("#kpis", "#traces-filters", "#traces-list"):
            self.query_one(wid).display = has_store
        self.query_one("#traces-empty").display = not has_store
        self.query_one("#traces-analytics").display = False
        self.query_one("#traces-detail").display = False
        self.query_one("#traces-message").display = False
        self.query_one("#traces-search").display = False
        self.query_one("#traces-paused").display = False
        self.query_one("#traces-queue").display = self.host.diagnostics_target is not None
        self.query_one("#traces-latency").border_title = "Latency by model"
        self.query_one("#traces-latency").border_subtitle = "█ p50 ▓ p95 ░ p99"
        self.query_one("#traces-errors").border_title = "Error rate by model"
        self.watch(self.app, "paused", self._paused_changed, init=False)
        self._columns()
        self._show_scope()
        self._show_filters()
        self._show_status()
        if has_store:
            self.feed = cast("TracesFeed", self.host.sources.use("traces", self))
            self.query_one("#traces-table", DataTable).focus()
            self.load_page()
            self.set_interval(ANALYTICS_SECONDS, self._refresh_analytics)
            self.set_interval(RETRY_SECONDS, self._retry)
        if self.host.diagnostics_target is not None:
            self.load_diagnostics()
            self.set_interval(REFRESH_SECONDS, self._refresh_diagnostics)

    # -- the store -----------------------------------------------------------------------
    async def _store(self) -> TraceStore:
        assert self.feed is not None
        return await self.feed.open()

    @property
    def store(self) -> TraceStore | None:
        """The open store (None until the first read opened it)."""
        return None if self.feed is None else self.feed.store

    def _failed(self, message: str) -> None:
        self.error = message
        self._show_message()
        self._show_status()

    def _recovered(self) -> None:
        if self.error is not None:
            self.error = None
            self._show_message()
            self._show_status()

    def _show_message(self) -> None:
        """Every error in one place, whole: the store's and the diagnostics', each
        wrapped over as many lines as it needs (an error cut mid-word reads as another
        error). Untrusted text: cleaned, never markup."""
        label = self.query_one("#traces-message", Static)
        lines = [m for m in (self.error, self.diagnostics_error) if m]
        label.display = bool(lines)
        text = Text(style=f"bold {palette(self.app).error}")
        for i, line in enumerate(lines):
            if i:
                text.append("\n")
            text.append(fmt.clean(line))
        label.update(text)

    def _retry(self) -> None:
        """While the store cannot be read, try again every few seconds (a file that
        appears, a server that comes back): the message goes when a read succeeds."""
        if self.error is not None and not self.host.paused:
            self.load_page(keep=self._selected_id())

    # -- workers -------------------------------------------------------------------------
    @work(exclusive=True, group="traces-page", exit_on_error=False)
    async def load_page(self, keep: str | None = None, then_analytics: bool = True) -> None:
        """Read the current page (the cursor on top of the stack) and show it."""
        try:
            store = await self._store()
            self._version = await store.version()  # read before: nothing slips between
            org_id, workspace_id = self.scope
            page = await store.query_traces(TraceFilter(
                org_id=org_id, workspace_id=workspace_id, provider=self.provider,
                model=self.model, status=self.status,
                min_status=ERROR_STATUS if self.errors_only else None, text=self.search,
                cursor=self.cursors[-1], limit=PAGE_SIZE,
                order=STORE_ORDERS[self.sort.key.column],
                ascending=not self.sort.descending))
        except TraceStoreError as exc:
            self._failed(str(exc))
            return
        except Exception as exc:  # a driver error we did not foresee: say it, stay up
            self._failed(f"reading traces failed: {exc}")
            return
        self._recovered()
        self.page = page
        self.rows = list(page.items)
        self.loaded_at = datetime.fromtimestamp(self.host.clock(), UTC)
        self.pages_loaded += 1
        self._show_rows(keep)
        self._show_filters()
        self._show_status()
        if then_analytics and self.analytics is None:
            self.load_analytics()

    @work(exclusive=True, group="traces-analytics", exit_on_error=False)
    async def load_analytics(self) -> None:
        """KPIs, latency, errors and the series over the bucket's window, one update."""
        bucket = self.bucket
        ending = self.chart_end
        until = ending or datetime.fromtimestamp(self.host.clock(), UTC)
        since = bucket_floor(until - WINDOWS[bucket], bucket)
        org_id, workspace_id = self.scope
        provider, model = self.provider, self.model
        # The cards and charts follow the provider and model filters (defect 8); the
        # choices offered for those filters come from the whole scope.
        everything = AnalyticsFilter(org_id=org_id, workspace_id=workspace_id, since=since,
                                     until=until)
        f = AnalyticsFilter(org_id=org_id, workspace_id=workspace_id, provider=provider,
                            model=model, since=since, until=until)
        try:
            store = await self._store()
            usage = await store.usage_summary(f)
            cost = await store.cost_summary(f)
            overall_errors = await store.error_rates(f, "none")
            overall_latency = await store.latency_percentiles(f, "none")
            latency = await store.latency_percentiles(f, "model")
            errors = await store.error_rates(f, "model")
            usage_series = await store.usage_series(f, "none", bucket)
            cost_series = await store.cost_series(f, "none", bucket)
            # Filter choices: what the window holds (an all-time scan of a big store
            # would cost seconds for a list of names).
            providers = [s.group for s in await store.error_rates(everything, "provider")]
            if provider is None:
                by_model = errors if model is None else \
                    await store.error_rates(everything, "model")
                models = [s.group for s in sorted(by_model, key=lambda e: -e.total_requests)]
            else:
                models = [s.model for s in await store.model_stats(AnalyticsFilter(
                    org_id=org_id, workspace_id=workspace_id, provider=self.provider,
                    since=since, until=until))]
            tenants = await self._read_tenants(store)
        except TraceStoreError as exc:
            self._failed(str(exc))
            return
        except Exception as exc:
            self._failed(f"reading analytics failed: {exc}")
            return
        self.analytics = Analytics(
            bucket, since, until, usage, cost, overall_errors[0] if overall_errors else None,
            overall_latency[0] if overall_latency else None, latency, errors, usage_series,
            cost_series, sorted(p for p in providers if p), models, tenants,
            (provider, model), ending)
        if self._tenant_column() != self._columns_tenant:
            keep = self._selected_id()
            self._columns()
            self._show_rows(keep)
        self._show_analytics()
        self._show_filters()
        self.refresh_bindings()

    async def _read_tenants(self, store: TraceStore) -> list[TenantStats]:
        """The tenants of the command line's scope, all time: read at most every
        ANALYTICS_MAX_AGE seconds (a count over the tenant index, 0.3 s per million
        traces on SQLite; tenants come and go far more rarely than traces)."""
        now = self.host.clock()
        if self._tenants_at is None or now - self._tenants_at >= ANALYTICS_MAX_AGE:
            org_id, workspace_id = self.base_scope
            self._tenant_list = await store.tenants(AnalyticsFilter(
                org_id=org_id, workspace_id=workspace_id))
            self._tenants_at = now
        return self._tenant_list

    @work(exclusive=True, group="traces-detail", exit_on_error=False)
    async def load_detail(self, trace_id: str) -> None:
        try:
            store = await self._store()
            trace = await store.get_trace(trace_id)
        except TraceStoreError as exc:
            self._failed(str(exc))
            return
        self.detail = trace
        pane = self.query_one("#traces-detail", VerticalScroll)
        self.query_one("#traces-detail-body", Static).update(detail_text(trace))
        pane.border_title = f"{fmt.clean(trace.model)} · {trace.response_status or '—'}"
        pane.border_subtitle = "esc close"
        pane.display = True
        pane.scroll_home(animate=False)
        if self.size.width < 110:
            self.query_one("#traces-table").display = False
            pane.focus()
        else:  # the table gives the pane 3/7 of the width: columns for what is left
            self._refit_columns()

    @work(exclusive=True, group="traces-diagnostics", exit_on_error=False)
    async def load_diagnostics(self) -> None:
        from tokentop.store.traces.diagnostics import load_diagnostics

        target = self.host.diagnostics_target
        assert target is not None
        try:
            self.diagnostics = await load_diagnostics(target)
            self.diagnostics_error = None
        except TraceStoreError as exc:
            self.diagnostics_error = str(exc)
        except Exception as exc:
            self.diagnostics_error = f"diagnostics: {exc}"
        self._show_queue()
        self._show_message()

    def on_source_updated(self, _: SourceUpdated) -> None:
        """Traces arrived (the store's change token moved): re-read the first page."""
        if self.feed is None or self._version is None or self.feed.version == self._version:
            return  # the first page is still being read, or it is the version shown
        self._analytics_stale = True
        if len(self.cursors) == 1 and self.showing == "list":
            self.load_page(keep=self._selected_id(), then_analytics=False)  # later pages
            # stay where the user is

    def _refresh_analytics(self) -> None:
        """Re-read when traces arrived, and every few minutes anyway (the window slides)."""
        a = self.analytics
        old = a is not None and a.ending is None and \
            self.host.clock() - a.until.timestamp() >= ANALYTICS_MAX_AGE
        if not self.host.paused and (self._analytics_stale or old):
            self._analytics_stale = False
            self.load_analytics()

    def _refresh_diagnostics(self) -> None:
        if not self.host.paused:
            self.load_diagnostics()

    # -- drawing -------------------------------------------------------------------------
    def _columns(self) -> None:
        """Columns for the width: wide screens add provider, key and route (the route
        gets what is left, so the table never scrolls sideways)."""
        table = self.query_one("#traces-table", DataTable)
        table.clear(columns=True)
        width = self._table_width()
        wide = width >= WIDE_TABLE
        tenant = self._tenant_column()
        tenant_width = 0
        if tenant:  # as wide as the longest label (up to TENANT_WIDTH), plus its gap
            one_org = self._one_org()
            tenant_width = 2 + min(TENANT_WIDTH, max(len("Tenant"), *(
                len(tenant_label(t.org_id, t.workspace_id, one_org)) for t in self._tenants())))
        widths: list[tuple[str | Text, str, int]] = [("Time", "time", 12 if wide else 8)]
        if wide and not tenant:  # the tenant takes the provider's place (the model says it)
            widths.append(("Provider", "provider", 9))
        widths += [("Model", "model", 26 if wide else 0),
                   (Text("Status", justify="right"), "status", 6),
                   (Text("Tokens", justify="right"), "tokens", 6),
                   (Text("Cost", justify="right"), "cost", 8),
                   (Text("Latency", justify="right"), "latency", 7)]
        if tenant:
            widths.append(("Tenant", "tenant", tenant_width - 2))
        if wide:
            widths += [("Key", "key", 11), ("Route", "route", 0)]
        for i, (label, key, cells) in enumerate(widths):
            if self.sort.marks(key):  # the sort key, visible: "Latency▼", a cell wider
                label = Text.assemble(label, (self.sort.arrow, "bold"), justify="right"
                                      if key != "time" else "left")
                widths[i] = (label, key, max(cells, label.cell_len))
        # The model (narrow) or the route (wide) gets what is left: the table's inside
        # (less its border and vertical scrollbar) less every other column and its
        # padding, so the table never scrolls sideways.
        inside = width - 4
        used = sum(w for _, _, w in widths) + 2 * len(widths)
        flexible = "route" if wide else "model"
        for label, key, cells in widths:
            if key == flexible:
                cells = max(8, inside - used)
            table.add_column(label, key=key, width=cells)
        self._wide_columns = wide
        self._columns_tenant = tenant
        self._columns_for = width

    def _table_width(self) -> int:
        """The table's width: the screen's, or 4/7 of it beside an open detail pane (the
        stylesheet's 4fr and 3fr), known before the layout runs."""
        detail_open = self.query_one("#traces-detail").display
        if self.size.width >= 110 and detail_open:
            return self.size.width * 4 // 7
        return self.size.width

    def _refit_columns(self) -> None:
        if self._table_width() != getattr(self, "_columns_for", None):
            keep = self._selected_id()  # before the columns go: they take the cursor
            self._columns()
            self._show_rows(keep)

    def on_resize(self) -> None:
        self._refit_columns()
        self.call_after_refresh(self._show_analytics)
        self.call_after_refresh(self._show_scope)
        self.call_after_refresh(self._show_filters)

    def _selected_id(self) -> str | None:
        table = self.query_one("#traces-table", DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row].id

    def _show_rows(self, keep: str | None = None) -> None:
        table = self.query_one("#traces-table", DataTable)
        wide = self._wide_columns
        table.clear()
        for r in self.rows:
            when = list_time(r, wide)
            cells: list[Text] = [Text(when, style="dim")]
            if wide and not self._columns_tenant:
                cells.append(fmt.safe(r.provider))
            cells.append(fmt.safe(r.model))
            status = "—" if r.response_status is None else str(r.response_status)
            cells.append(Text(status, style=status_style(r.response_status), justify="right"))
            cells.append(Text("—" if r.total_tokens is None else fmt.tokens(r.total_tokens),
                              justify="right"))
            cells.append(Text(usd(r.estimated_cost_usd), justify="right"))
            cells.append(Text(ms(r.latency_ms), justify="right"))
            if self._columns_tenant:
                cells.append(fmt.safe(tenant_label(r.org_id, r.workspace_id,
                                                   self._one_org()), "dim"))
            if wide:
                cells.append(fmt.safe(r.gateway_key_id or "—", "dim"))
                cells.append(fmt.safe(f"{r.request_method} {r.request_path}", "dim"))
            table.add_row(*cells, key=r.id)
        if not self.rows:
            words = "no traces match these filters" if self._filtered() else "no traces yet"
            table.add_row(Text(words, style="italic dim"),
                          *[Text("") for _ in range(len(table.columns) - 1)])
        if keep is not None:
            for i, r in enumerate(self.rows):
                if r.id == keep:
                    table.move_cursor(row=i, animate=False)
                    break

    def _filtered(self) -> bool:
        return (self.provider is not None or self.model is not None
                or self.status is not None or self.tenant is not None
                or self.errors_only or self.search is not None)

    @property
    def scope(self) -> tuple[str | None, str | None]:
        """(org_id, workspace_id) every query is scoped to: the tenant chosen with t,
        else the command line's --org/--workspace (None: any)."""
        return self.tenant if self.tenant is not None else self.base_scope

    def _tenants(self) -> list[TenantStats]:
        return self.analytics.tenants if self.analytics is not None else []

    def _tenant_column(self) -> bool:
        """A Tenant column while rows of more than one tenant can be in the list."""
        return self.tenant is None and len(self._tenants()) > 1

    def _one_org(self) -> bool:
        return len({t.org_id for t in self._tenants()}) <= 1

    def _show_analytics(self) -> None:
        a = self.analytics
        if a is None or a.bucket != self.bucket or a.ending != self.chart_end:
            return
        colors = palette(self.app)
        rate = a.overall_errors.error_rate if a.overall_errors else None
        p95 = a.overall_latency.p95_ms if a.overall_latency else None
        self._card("#tkpi-requests", ("Requests", "Reqs"),
                   count_spellings(a.usage.request_count))
        self._card("#tkpi-tokens", ("Tokens", "Tok"), [fmt.tokens(a.usage.total_tokens)])
        self._card("#tkpi-cost", ("Cost",), usd_spellings(a.cost.total_cost_usd))
        self._card("#tkpi-errors", ("Errors", "Err"), rate_spellings(rate))
        self._card("#tkpi-p95", ("p95",), [ms(p95)])
        latency = self.query_one("#traces-latency", Static)
        latency.update(latency_text(a.latency, max(30, latency.content_size.width),
                                    (colors.input, colors.output, colors.fleet)))
        errors = self.query_one("#traces-errors", Static)
        errors.update(errors_text(a.errors, max(30, errors.content_size.width)))
        step = BUCKET_MINUTES[a.bucket]
        first = int(bucket_floor(a.since, a.bucket).timestamp()) // 60
        last = int(bucket_floor(a.until, a.bucket).timestamp()) // 60
        minutes = list(range(first, last + 1, step))
        index = {m: i for i, m in enumerate(minutes)}
        inp, out, cost = [0] * len(minutes), [0] * len(minutes), [0] * len(minutes)
        for p in a.usage_series:
            i = index.get(int(p.bucket_start.timestamp()) // 60)
            if i is not None:
                inp[i] += p.input_tokens
                out[i] += p.output_tokens
        for c in a.cost_series:
            i = index.get(int(c.bucket_start.timestamp()) // 60)
            if i is not None:
                cost[i] += round(c.total_cost_usd * 1_000_000)
        words = WINDOW_WORDS[a.bucket] if a.ending is None else "scrolled back"
        ending = None if a.ending is None else int(a.ending.timestamp()) // 60
        tokens_chart = self.query_one("#traces-tokens-chart", TimeChart)
        tokens_chart.border_title = f"Tokens per {a.bucket} · {words}"
        tokens_chart.show(ChartData(minutes, step, [Series("input", inp, colors.input),
                                                    Series("output", out, colors.output)],
                                    quiet="no traces in this window" if a.ending is None
                                    else "no traces in this window: < stops here",
                                    ending=ending))
        cost_chart = self.query_one("#traces-cost-chart", TimeChart)
        cost_chart.border_title = f"Cost per {a.bucket} · g: hour·day·week"
        cost_chart.show(ChartData(minutes, step, [Series("cost (USD)", cost, colors.cost)],
                                  quiet="no traces in this window"))
        self._show_scope()

    def _card(self, wid: str, labels: Sequence[str], values: Sequence[str]) -> None:
        """A card's value whole or abbreviated to the cells it has, never cut
        (tui/widgets/trace_cards.py); re-fitted on every resize."""
        card = self.query_one(wid, KpiCard)
        label, value = fit_card(card.content_size.width, labels, values,
                                inline=self.has_class("-short"))
        card.set_label(label)
        card.set_value(value)

    def _show_queue(self) -> None:
        label = self.query_one("#traces-queue", Label)
        d = self.diagnostics
        if d is None:
            label.update(Text(" queue ? ", style="bold #e06c75" if self.diagnostics_error
                              else "dim"))
            return
        pressure = str(getattr(d, "pressure", "ok"))
        pct = getattr(d, "utilization_pct", None)
        style = PRESSURE_STYLES.get(pressure, "bold")
        text = Text(no_wrap=True)
        text.append("queue ", style="dim")
        text.append(f" {pressure}", style=f"bold reverse {style}")
        text.append(f" {pct:.0f}% " if isinstance(pct, int | float) else " ",
                    style=f"bold reverse {style}")
        label.update(text)
        self.call_after_refresh(self._show_scope)  # the badge's width moves the scope's

    def _show_scope(self) -> None:
        """What is shown, from where, for when. The window of the cards always shows
        whole; the provider and model filters (which the cards and analytics follow) are
        cut with ``…`` if they must be; the store's path or URL gets the room left, cut
        at its start (``…/gw/traces.db``: the file name tells one store from another)."""
        label = self.query_one("#traces-scope", Label)
        width = label.content_size.width
        head = "traces" if self.showing == "list" else "trace analytics"
        org_id, workspace_id = self.base_scope
        words = " ".join(f"{k} {fmt.clean(v)}" for k, v in
                         (("org", org_id), ("workspace", workspace_id)) if v)
        chosen = " ".join(fmt.clean(v) for v in (self.provider, self.model) if v is not None)
        window = WINDOW_WORDS[self.analytics.bucket] if self.analytics is not None else ""
        if self.chart_end is not None:  # the cards and charts follow the window shown
            window = f"{WINDOW_WORDS[self.bucket].removeprefix('last ')} to " \
                f"{fmt.local_stamp(int(self.chart_end.timestamp()) // 60)}"
        target = self.store.display if self.store is not None else self.host.traces_target
        where = fmt.clean(target) if target is not None else ""

        def room(*others: str) -> int:
            return width - len(head) - sum(len(o) + 3 for o in others if o)

        if width:
            if room(words, window) < 0:
                head = "analytics" if self.showing != "list" else head
            if room(words, window) < 0:  # the window before the words: it says what
                words = ""  # the cards count; --org/--workspace were typed by the user
            if chosen and room(words, window, chosen) < 0:
                space = room(words, window) - 3
                chosen = clip_head(chosen, space) if space >= 6 else ""
            if where and room(words, window, chosen, where) < 0:
                space = room(words, window, chosen) - 3
                where = "…" + where[len(where) - space + 1:] if space >= 8 else ""
        text = Text(head)
        for part, style in ((where, "dim"), (words, "bold"), (chosen, "bold"),
                            (window, "dim")):
            if part:
                text.append(f" · {part}", style=style)
        label.update(text)

    def _show_filters(self) -> None:
        """The filters in force, the sort key and the page, in one line. What is in force
        (and a note that the cards do not follow it) always shows; when the line is too
        narrow, the keys of filters not in force go first (``p``, ``/``, ``e``, then
        ``f m s t``), then the count shown."""
        parts: list[tuple[Text, int]] = []  # (segment, rank: the highest goes first)

        def item(key: str, label: str, value: str | None, rank: int,
                 off: str = " all") -> None:
            seg = Text()
            seg.append(key, style="bold underline")
            seg.append(f" {label}", style="dim")
            seg.append(f" {fmt.clean(value)}" if value is not None else off,
                       style="bold" if value is not None else "")
            parts.append((seg, 0 if value is not None else rank))

        item("f", "provider", self.provider, 2)
        item("m", "model", self.model, 2)
        item("c", "status", None if self.status is None else str(self.status), 2)
        if len(self._tenants()) > 1 or self.tenant is not None:
            item("t", "tenant", None if self.tenant is None else
                 tenant_label(*self.tenant, one_org=self._one_org()), 2)
        item("e", "errors", "only" if self.errors_only else None, 3, off="")
        item("/", "search", None if self.search is None else f"“{self.search}”", 4,
             off="")
        if self.status is not None or self.errors_only or self.search is not None:
            parts.append((Text("cards: no status/search", style="italic dim"), 0))
        sort = Text()
        sort.append("o", style="bold underline")
        sort.append(" sort ", style="dim")
        words = self.sort.key.label
        if self.sort.key.column == "time" and not self.sort.descending:
            words = "oldest"
        sort.append(f"{words}{self.sort.arrow}", style="bold")
        parts.append((sort, 0))
        item("p", "pick", None, 5, off="")
        more = self.page is not None and self.page.next_cursor is not None
        pages: list[Text] = [Text(f"· page {len(self.cursors)}" + (
            f" · {len(self.rows)} shown" if self.page is not None else "")
            + (" · ] more" if more else ""), style="dim"),
            Text(f"· page {len(self.cursors)}" + (" · ] more" if more else ""),
                 style="dim")]
        label = self.query_one("#traces-filters", Label)
        width = self.size.width - 2  # the line's width less its padding
        text = Text()
        attempts = [(rank, page) for rank in (6, 5, 4, 3, 2, 1) for page in pages[:2]]
        for keep_below, page in [*attempts, (1, None)]:
            kept = [seg for seg, rank in parts if rank < keep_below]
            text = Text("  ").join([*kept, page] if page is not None else kept)
            if text.cell_len <= width:
                break
        text.no_wrap = True
        text.overflow = "ellipsis"
        label.update(text)

    def _show_status(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis", style="dim")
        if self.host.traces_target is None:
            text.append("no trace store")
        else:
            if self.store is not None:
                text.append(f"{self.store.backend} · read-only")
            elif self.error is not None:
                text.append(f"trace store not open · retrying every {RETRY_SECONDS:.0f} s",
                            style=palette(self.app).error)
            else:
                text.append("opening the trace store…")
            if self.loaded_at is not None:
                text.append(f" · read {local_time(self.loaded_at)}")
        self.query_one("#traces-status", Label).update(text)

    def _paused_changed(self, paused: bool) -> None:
        self.query_one("#traces-paused").display = paused

    # -- events and actions ---------------------------------------------------------------
    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key is None or not self.rows:
            return
        if self.detail is not None and self.detail.id == key and \
                self.query_one("#traces-detail").display:
            self.action_close_detail()
            return
        self.load_detail(key)

    def action_close_detail(self) -> None:
        if hide_cursor(list(self.query(TimeChart))):
            return
        search = self.query_one("#traces-search", Input)
        if search.display:  # esc while typing a search: put it away unapplied
            search.display = False
            self.query_one("#traces-table", DataTable).focus()
            return
        pane = self.query_one("#traces-detail")
        if not pane.display:
            return
        pane.display = False
        self.detail = None
        table = self.query_one("#traces-table", DataTable)
        table.display = True
        table.focus()
        self._refit_columns()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.host.traces_target is None and action != "close_detail":
            return False  # nothing to page, filter or chart without a store
        if action == "show":
            return parameters[0] != self.showing
        if action == "cycle_tenant":  # hidden while the store holds one tenant
            return len(self._tenants()) > 1 or self.tenant is not None
        if action in ("next_page", "prev_page", "cycle_provider", "cycle_model",
                      "cycle_status", "toggle_errors", "search", "pick", "sort",
                      "sort_reverse"):
            return self.showing == "list"
        if action == "cycle_bucket":
            return self.showing == "analytics"
        if action in ("chart_cursor", "chart_scroll"):
            if self.showing != "analytics":
                return False
            if action == "chart_scroll" and parameters[0] == -1:
                return not self._before_the_first_trace()
            return action == "chart_cursor" or self.chart_end is not None
        return True

    def watch_showing(self, showing: str) -> None:
        listing = showing == "list"
        self.query_one("#traces-filters").display = listing
        self.query_one("#traces-list").display = listing
        self.query_one("#traces-analytics").display = not listing
        self.refresh_bindings()
        self._show_scope()
        if not listing:
            self.call_after_refresh(self._show_analytics)
        else:
            self.query_one("#traces-table", DataTable).focus()

    def watch_bucket(self) -> None:
        self.load_analytics()

    # -- the chart cursor and scrolling back (chart_cursor.py): the cards and both
    # charts are read again, in the worker, for the window shown (the scope says which).
    def action_chart_cursor(self, step: int) -> None:
        move_cursor(list(self.query(TimeChart)), step)

    def _before_the_first_trace(self) -> bool:
        """Scrolled back to a window without a single trace: ``<`` stops there. (The
        store's windows are 48 h, 14 d or 12 w: a gateway quiet for that long before
        holding traces again is not what an empty window far back means.)"""
        a = self.analytics
        return (a is not None and a.ending is not None and a.ending == self.chart_end
                and a.usage.request_count == 0)

    def action_chart_scroll(self, step: int) -> None:
        now = datetime.fromtimestamp(self.host.clock(), UTC)
        end = (self.chart_end or now) + step * WINDOWS[self.bucket]
        self.chart_end = None if end >= now else end
        self.refresh_bindings()
        self._show_scope()
        self.load_analytics()

    def action_show(self, showing: str) -> None:
        self.showing = showing

    def action_cycle_bucket(self) -> None:
        self.bucket = BUCKETS[(BUCKETS.index(self.bucket) + 1) % len(BUCKETS)]

    def action_next_page(self) -> None:
        if self.page is None or self.page.next_cursor is None:
            self.notify("this is the last page", timeout=2)
            return
        self.cursors.append(self.page.next_cursor)
        self.load_page()

    def action_prev_page(self) -> None:
        if len(self.cursors) == 1:
            self.load_page()  # the first page: just re-read it
            return
        self.cursors.pop()
        self.load_page()

    def _refilter(self) -> None:
        self.cursors = [None]
        self.action_close_detail()
        self._show_filters()
        self._show_scope()
        self.load_page()

    def action_cycle_provider(self) -> None:
        options: list[str | None] = [None, *(self.analytics.providers if self.analytics
                                              else [])]
        self.provider = _next(options, self.provider)
        self.model = None
        self._refilter()
        self.load_analytics()  # the model list of the new provider

    def action_cycle_model(self) -> None:
        options: list[str | None] = [None, *(self.analytics.models if self.analytics else [])]
        self.model = _next(options, self.model)
        self._refilter()
        self.load_analytics()  # the cards follow the model

    def action_cycle_status(self) -> None:
        self.status = _next(STATUSES, self.status)
        self._refilter()

    def action_cycle_tenant(self) -> None:
        """All tenants of the scope, then each one (most traces first): the list, the
        cards and every chart follow."""
        options: list[tuple[str, str] | None] = [
            None, *((t.org_id, t.workspace_id) for t in self._tenants())]
        self.tenant = _next(options, self.tenant)
        self.provider = self.model = None
        self._columns()
        self._refilter()
        self.load_analytics()

    def action_toggle_errors(self) -> None:
        """Errors only (every 4xx and 5xx), or every status again."""
        self.errors_only = not self.errors_only
        self._refilter()

    def action_search(self) -> None:
        """A one-line search box over the list (the store searches every page)."""
        search = self.query_one("#traces-search", Input)
        search.value = self.search or ""
        search.display = True
        search.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "traces-search":
            return
        event.stop()
        event.input.display = False
        self.search = event.value.strip() or None
        self.query_one("#traces-table", DataTable).focus()
        self._refilter()

    def action_sort(self) -> None:
        """Newest first, or by latency, cost or tokens, largest first: every page, in
        the store's query (store/traces/order.py), from the first page."""
        self.sort.cycle()
        self._resort()

    def action_sort_reverse(self) -> None:
        """The same key the other way round: oldest, fastest, cheapest, fewest first."""
        self.sort.reverse()
        self._resort()

    def _resort(self) -> None:
        self._columns()
        self._refilter()

    def action_copy(self) -> None:
        """The id of the trace open in the detail pane, else of the row under the cursor."""
        shown = self.detail is not None and self.query_one("#traces-detail").display
        copy_value(self.app, "trace id", self.detail.id if shown and self.detail
                   else self._selected_id())

    def action_pick(self) -> None:
        """Every filter value in a list (type to narrow): quicker than cycling."""
        choices = [Choice("clear", None, "every filter off (x)")]

        def add(kind: str, current: object, values: Sequence[tuple[object, str]]) -> None:
            choices.append(Choice(kind, None, "all", current is None))
            choices.extend(Choice(kind, v, label, v == current) for v, label in values)

        a = self.analytics
        add("provider", self.provider, [(p, p) for p in (a.providers if a else [])])
        add("model", self.model, [(m, m) for m in (a.models if a else [])])
        add("status", self.status, [(c, str(c)) for c in STATUSES if c is not None])
        choices.append(Choice("errors", not self.errors_only, "4xx and 5xx only",
                              self.errors_only))
        if len(self._tenants()) > 1 or self.tenant is not None:
            one_org = self._one_org()
            add("tenant", self.tenant, [((t.org_id, t.workspace_id),
                                         tenant_label(t.org_id, t.workspace_id, one_org))
                                        for t in self._tenants()])
        self.app.push_screen(FilterPicker(choices), self._picked)

    def _picked(self, choice: Choice | None) -> None:
        if choice is None:
            return
        if choice.kind == "clear":
            self.action_clear_filters()
        elif choice.kind == "provider":
            self.provider = cast("str | None", choice.value)
            self.model = None
            self._refilter()
            self.load_analytics()
        elif choice.kind == "model":
            self.model = cast("str | None", choice.value)
            self._refilter()
            self.load_analytics()
        elif choice.kind == "status":
            self.status = cast("int | None", choice.value)
            self._refilter()
        elif choice.kind == "errors":
            self.errors_only = bool(choice.value)
            self._refilter()
        elif choice.kind == "tenant":
            self.tenant = cast("tuple[str, str] | None", choice.value)
            self.provider = self.model = None
            self._columns()
            self._refilter()
            self.load_analytics()

    def action_clear_filters(self) -> None:
        reload = self.tenant is not None or self.provider is not None or \
            self.model is not None
        self.provider = self.model = self.status = None
        self.errors_only = False
        self.search = None
        self.tenant = None
        if reload:
            self._columns()
            self.load_analytics()
        self._refilter()


def list_time(row: TraceRow, wide: bool) -> str:
    """The time the list is ordered by: when the gateway stored the trace
    (``created_at``, its QueryTraces order), not when the request began. A slow request
    begun earlier is stored later, so showing ``timestamp`` put times out of order in a
    list that says newest first (issue 17, defect 8)."""
    when = row.created_at or row.timestamp
    return when.astimezone().strftime("%b %d %H:%M") if wide else local_time(when)


def tenant_label(org_id: str, workspace_id: str, one_org: bool) -> str:
    """A tenant for a cell: the workspace alone when every tenant shares one org, and
    the gateway's default tenant (org and workspace "default") as one word."""
    if one_org:
        return workspace_id
    return org_id if org_id == workspace_id else f"{org_id}/{workspace_id}"


def _next(options: Sequence[T], current: T) -> T:
    """The option after ``current`` (wrapping; the first if ``current`` is gone)."""
    try:
        i = list(options).index(current)
    except ValueError:
        return options[0]
    return options[(i + 1) % len(options)]
