"""The Events screen: a live log of a browser's event stream (``--events``).

The events source (``tui/sources/events.py``, started with the app) owns the ring
(``EventStream``), the reading (SSE or a followed JSONL file, in a thread worker) and
this screen's ``Reader``. The screen never waits on any of
them: ten times a second it takes what is new with ``read_many`` (for at most 20 ms,
so a burst is spread over a few ticks) and appends one batch of rows to the log.
Rows are cheap: an event is summarised only when it is drawn or filtered. When a
burst overflows the ring before the screen got to it, the reader says how many it
lost and the log shows "N events not shown: viewer fell behind" where they were;
gaps and restarts upstream arrive as markers on the next envelope.

Counters come from the source's ``SourceStats`` (received, dropped upstream,
duplicates, truncated, per category) and the reader (dropped in the viewer); the
rate is sampled from ``received`` on the app's clock, one bucket per second.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, ClassVar, cast

import msgspec
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Label, Static

from tokentop.store.events.model import Marker
from tokentop.store.events.tracker import SourceStats
from tokentop.tui import format as fmt
from tokentop.tui.screens import DashboardHost
from tokentop.tui.widgets.alert_banner import AlertBanner
from tokentop.tui.widgets.cells import fit, whole_items
from tokentop.tui.widgets.copy import copy_value
from tokentop.tui.widgets.empty import howto_message
from tokentop.tui.widgets.event_log import EventLog
from tokentop.tui.widgets.event_text import (
    CATEGORIES,
    EventSummarizer,
    LogRow,
    category_color,
    category_key,
    detail_text,
    local_time,
    marker_text,
)
from tokentop.tui.widgets.key_footer import KeyFooter
from tokentop.tui.widgets.palette import palette
from tokentop.tui.widgets.screen_bar import ScreenBar
from tokentop.tui.widgets.sparkline import spark_text
from tokentop.tui.widgets.status import StatusLine

if TYPE_CHECKING:
    from tokentop.store.events.stream import Reader
    from tokentop.tui.sources.events import EventsFeed

TICK_SECONDS = 0.1
BATCH = 500  # results taken at a time from the reader
MAX_CHUNKS = 20  # at most 10,000 results a tick (twice the log's backlog)
TICK_BUDGET = 0.02  # seconds of row-making per tick; the rest of a burst waits a tick
RATE_SECONDS = 60  # the sparkline's span
RATE_AVERAGE = 5  # rate/s: the mean of the last complete seconds

# Category -> its toggle key: shift + a letter of its name (underlined in the category
# bar). Capitals, because every lowercase letter of these names already means something
# on another screen (tests/test_keys.py holds each key to one meaning).
CATEGORY_KEYS: dict[str, str] = {
    "console": "C", "network": "K", "page": "G", "interaction": "A", "control": "T",
    "connection": "I", "system": "E", "screenshot": "N", "captcha": "P", "monitor": "M",
    "platform": "F", "other": "H",
}

NO_STREAM = "no event stream: tokentop --events URL|FILE"


def empty_events_message() -> Text:
    """What to run to see a browser's events (the screen without ``--events``)."""
    return howto_message(NO_STREAM, (
        ("tokentop --events http://HOST:PORT/telemetry/stream", "a browser's SSE stream"),
        ("tokentop --events events.jsonl", "follow a JSONL file of envelopes"),
        ("tokentop --events URL --events-replay", "start from the server's buffer"),
        ("tokentop --demo", "built-in demo events"),
    ), "The cloud API needs KERNEL_API_KEY in the environment.")


class EventsScreen(Screen[None]):
    """Header counters, category toggles, the log, a detail pane, the connection line."""

    # The list, not Textual's default (the first focusable widget: the search box,
    # hidden until ``/``): keys typed before on_mount ran went into it.
    AUTO_FOCUS = "#events-log"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", id="events.filter", key_display="/"),
        Binding("enter", "detail", "Detail", id="events.detail"),
        Binding("escape", "back", "Back", id="events.back", show=False, key_display="esc"),
        Binding("x", "all_categories", "All", id="events.all"),
        # Before the category keys: ``y`` copies (the system category needs another key).
        Binding("y", "copy", "Copy", id="events.copy", show=False),
        *(Binding(key, f"toggle_category('{cat}')", cat.capitalize(),
                  id=f"events.toggle-{cat}", show=False)
          for cat, key in CATEGORY_KEYS.items()),
    ]

    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (32, "-tall")]

    def __init__(self) -> None:
        super().__init__()
        self.summarizer = EventSummarizer()
        self.hidden: set[str] = set()  # categories toggled off
        self.query_text = ""
        self.new_while_paused = 0
        self.rows_read = 0  # envelopes taken from the reader (for tests and diagnostics)
        self.shown_received = -1  # ``stats.received`` as the header last showed it
        self.detail_row: LogRow | None = None
        self._buckets: deque[tuple[int, int]] = deque(maxlen=RATE_SECONDS + 1)
        self._first_second: int | None = None
        self._last_received = 0
        self._header_key: tuple[object, ...] | None = None
        self._category_lines = -1  # lines of category chips shown (a change needs layout)

    @property
    def host(self) -> DashboardHost:
        return cast(DashboardHost, self.app)

    # -- layout ------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield ScreenBar()
        yield AlertBanner()
        with Horizontal(id="topbar"):
            yield Label(id="events-scope")
            yield Label(" PAUSED ", id="events-paused")
        yield Label(id="events-counters")
        yield Static(id="events-categories")
        yield Input(placeholder="filter: type, category or text; enter keeps, esc clears",
                    id="events-filter")
        yield EventLog(id="events-log")
        with VerticalScroll(id="events-detail"):
            yield Static(id="events-detail-body")
        yield Static(empty_events_message(), id="events-empty")
        yield StatusLine(id="events-status")
        yield KeyFooter()

    @property
    def feed(self) -> EventsFeed | None:
        """The event stream's source (None: no --events); it starts with the app, so
        the ring holds what arrived before this screen was first shown."""
        return cast("EventsFeed | None", self.host.sources.get("events"))

    @property
    def reader(self) -> Reader | None:
        return None if self.feed is None else self.feed.reader

    def on_mount(self) -> None:
        has_stream = self.reader is not None
        self.query_one("#events-paused", Label).display = False
        self.query_one("#events-filter", Input).display = False
        self.query_one("#events-detail").display = False
        self.query_one("#events-detail").border_title = "Event"
        self.query_one("#events-empty").display = not has_stream
        for wid in ("#events-counters", "#events-categories", "#events-log"):
            self.query_one(wid).display = has_stream
        self.watch(self.app, "paused", self._paused_changed, init=False)
        self._paused_changed(self.host.paused)
        self.query_one(EventLog).focus()
        self.tick()
        self.set_interval(TICK_SECONDS, self.tick)

    def on_resize(self) -> None:
        self._header_key = None
        self._show_header()

    # -- reading -----------------------------------------------------------------
    def tick(self) -> None:
        """Take what is new from the reader (bounded) and redraw the header if it moved."""
        reader = self.reader
        if reader is None:
            self._show_status()
            return
        rows: list[LogRow] = []
        summarizer = self.summarizer
        events_read = 0
        deadline = time.perf_counter() + TICK_BUDGET
        for _ in range(MAX_CHUNKS):
            results = reader.read_many(BATCH)
            for result in results:
                env = result.envelope
                if env is None:
                    when = _clock_text(self.host.clock())
                    rows.append(summarizer.marker_row(
                        Marker("viewer", dropped=result.dropped), when=when))
                    continue
                events_read += 1
                marker = env.marker
                if marker is not None and marker.kind in ("upstream", "restart"):
                    rows.append(summarizer.marker_row(marker, when=""))
                rows.append(summarizer.event_row(env))
            if len(results) < BATCH or time.perf_counter() > deadline:
                break
        if rows:
            self.rows_read += events_read
            if self.host.paused:
                self.new_while_paused += events_read
            self.query_one(EventLog).add(rows)
        self._sample_rate()
        self._show_header()

    def _stats(self) -> SourceStats | None:
        feed = self.feed
        return None if feed is None else feed.reads.stats

    def _sample_rate(self) -> None:
        stats = self._stats()
        if stats is None:
            return
        second = int(self.host.clock())
        received = stats.received
        delta = max(0, received - self._last_received)
        self._last_received = received
        if self._first_second is None:
            self._first_second = second
        if self._buckets and self._buckets[-1][0] == second:
            self._buckets[-1] = (second, self._buckets[-1][1] + delta)
        else:
            self._buckets.append((second, delta))

    def rate_series(self) -> tuple[list[int], float | None]:
        """(events per second over the last minute, the recent mean rate or None)."""
        now = int(self.host.clock())
        counts = dict(self._buckets)
        series = [counts.get(s, 0) for s in range(now - RATE_SECONDS + 1, now + 1)]
        if self._first_second is None:
            return series, None
        span = min(RATE_AVERAGE, now - self._first_second)
        if span <= 0:
            return series, None
        return series, sum(counts.get(s, 0) for s in range(now - span, now)) / span

    # -- header, categories, status ----------------------------------------------------
    def _show_header(self) -> None:
        stats = self._stats()
        reader = self.reader
        if stats is None or reader is None:
            self._show_status()
            return
        per_category = dict(stats.per_category)  # copied: the source thread adds to it
        series, rate = self.rate_series()
        key = (stats.received, stats.upstream_dropped, reader.dropped_total, stats.duplicates,
               stats.truncated, stats.malformed, tuple(sorted(per_category.items())),
               tuple(series), rate, frozenset(self.hidden), self.new_while_paused,
               stats.state, stats.last_error, stats.retry_in, self.host.paused,
               stats.restarts, stats.restart_lost, stats.last_restart,
               None if self.feed is None else self.feed.error, self.size.width)
        if key == self._header_key:
            return
        self._header_key = key
        wide = self.size.width >= 110
        colors = palette(self.app)
        items: list[Text] = []

        def item(label: str, value: str, style: str = "bold") -> None:
            items.append(Text.assemble((f"{label} ", "dim"), (value, style)))

        item("received" if wide else "recv", fmt.count(stats.received))
        rate_item = Text.assemble(("—" if rate is None else f"{rate:,.1f}", "bold"),
                                  ("/s ", "dim"))
        rate_item.append_text(spark_text(series, 16 if wide else 8, colors.input, "dim"))
        items.append(rate_item)
        item("dropped upstream" if wide else "lost up", fmt.count(stats.upstream_dropped),
             "bold #e06c75" if stats.upstream_dropped else "bold")
        item("in viewer" if wide else "viewer", fmt.count(reader.dropped_total),
             "bold #e5c07b" if reader.dropped_total else "bold")
        if stats.restarts:
            lost = f" ({fmt.count(stats.restart_lost)} lost)" if stats.restart_lost else ""
            item("restarts" if wide else "rst", fmt.count(stats.restarts) + lost,
                 "bold #e06c75" if stats.restart_lost else "bold #56b6c2")
        item("duplicates" if wide else "dup", fmt.count(stats.duplicates))
        item("truncated" if wide else "trunc", fmt.count(stats.truncated))
        if stats.malformed:
            item("malformed" if wide else "bad", fmt.count(stats.malformed), "bold #e06c75")
        # Whole items only: a counter is never cut mid-number at the edge.
        line = whole_items(items, max(20, self.size.width - 2))
        # Fixed-size labels: no layout pass per update (one per tick under load).
        self.query_one("#events-counters", Label).update(line, layout=False)
        chips = self._categories_text(per_category, wide)
        lines = chips.plain.count("\n")
        self.query_one("#events-categories", Static).update(
            chips, layout=lines != self._category_lines)
        self._category_lines = lines
        self.shown_received = stats.received
        self._show_scope()
        self._show_paused()
        self._show_status()

    def _categories_text(self, per_category: dict[str, int], wide: bool) -> Text:
        counts: dict[str, int] = dict.fromkeys(CATEGORIES, 0)
        for cat, n in per_category.items():
            counts[category_key(cat)] += n
        width = max(20, self.size.width - 2)
        text = Text(no_wrap=True, overflow="ellipsis")
        used = 0
        for cat in CATEGORIES:
            off = cat in self.hidden
            color = category_color(cat if cat != "other" else "?")
            key = CATEGORY_KEYS[cat]
            at = cat.index(key.lower())
            count = f" {fmt.tokens(counts[cat])}"
            chip = len(cat) + len(count)
            if used:  # chips wrap whole, never between a name and its count
                if used + 2 + chip > width:
                    text.append("\n")
                    used = 0
                else:
                    text.append("  ")
                    used += 2
            base = f"strike dim {color}" if off else color
            text.append(cat[:at], style=base)
            text.append(cat[at], style=f"{base} bold underline")
            text.append(cat[at + 1:], style=base)
            text.append(count, style="dim" if off else "bold")
            used += chip
        return text

    def _show_scope(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("events")
        name = fmt.clean(self.feed.shown_name if self.feed else "")
        # The top bar's label does not mark a cut: fit the name (… where short) or
        # leave it out, never a dangling ``·``.
        room = self.size.width - len(" tokentop ") - 2 - len(text) - 3 - (
            len(" paused, 00,000 new ") if self.host.paused else 0)
        if name and room >= min(len(name), 8):
            text.append(f" · {fit(name, room).rstrip()}", style="dim")
        self.query_one("#events-scope", Label).update(text, layout=False)

    def _show_status(self) -> None:
        """The connection line: state, retry countdown, last error; filter and detail."""
        label = self.query_one("#events-status", Label)
        stats = self._stats()
        text = Text(no_wrap=True, overflow="ellipsis")
        if stats is None:
            text.append("no event stream", style="dim")
            label.update(text, layout=False)
            return
        state = stats.state
        styles = {"connected": "bold #98c379", "ended": "bold", "failed": "bold #e06c75",
                  "reconnecting": "bold #e5c07b", "connecting": "bold #e5c07b"}
        words = state
        if state == "reconnecting" and stats.retry_in is not None:
            words = f"reconnecting in {max(0.0, stats.retry_in):.0f} s"
        elif state == "ended":
            words = "ended (end of file)"
        text.append("● ", style=styles.get(state, "bold"))
        text.append(words, style=styles.get(state, "bold"))
        problem = (self.feed.error if self.feed else None) or stats.last_error
        if problem:
            text.append(" · ", style="dim")
            text.append(fmt.clean(problem), style="#e06c75")
        if stats.last_restart and not problem:
            text.append(" · ", style="dim")
            text.append(fmt.clean(stats.last_restart), style="#56b6c2")
        if stats.last_malformed and not problem:
            text.append(" · last bad line: ", style="dim")
            text.append(fmt.clean(stats.last_malformed), style="dim")
        shown = len(self.query_one(EventLog).shown)
        text.append(f" · {fmt.count(shown)} line{'' if shown == 1 else 's'}", style="dim")
        if self.hidden:
            text.append(" · hidden: " + ", ".join(c for c in CATEGORIES if c in self.hidden),
                        style="dim")
        if self.query_text:
            text.append(" · filter: ", style="dim")
            text.append(fmt.clean(self.query_text), style="bold")
        label.update(text, layout=False)

    def _paused_changed(self, paused: bool) -> None:
        log = self.query_one(EventLog)
        if paused:
            self.new_while_paused = 0
        log.freeze(paused)
        self._show_paused()

    def on_virtual_list_followed(self) -> None:
        """``end`` while paused: following means live again."""
        if self.host.paused:
            self.host.paused = False

    def _show_paused(self) -> None:
        label = self.query_one("#events-paused", Label)
        label.display = self.host.paused
        if self.host.paused:
            label.update(f" paused, {fmt.count(self.new_while_paused)} new ")

    # -- filtering -------------------------------------------------------------------
    def _apply_filter(self) -> None:
        hidden = frozenset(self.hidden)
        needle = self.query_text.lower()

        def keep(row: LogRow) -> bool:
            if row.is_marker:
                return True  # a gap is shown whatever is filtered: it is about everything
            if hidden and category_key(row.category) in hidden:
                return False
            return not needle or needle in row.search

        log = self.query_one(EventLog)
        log.empty_text = Text("no events match" if hidden or needle else "waiting for events…",
                              style="italic dim")
        log.set_filter(keep)
        self._header_key = None
        self._show_header()
        self._show_status()

    def action_toggle_category(self, category: str) -> None:
        self.hidden ^= {category}
        self._apply_filter()

    def action_all_categories(self) -> None:
        self.hidden.clear()
        self._apply_filter()

    def action_filter(self) -> None:
        box = self.query_one("#events-filter", Input)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "events-filter":
            self.query_text = event.value
            self._apply_filter()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "events-filter":
            event.input.display = bool(event.value)
            self.query_one(EventLog).focus()

    # -- detail --------------------------------------------------------------------------
    def action_detail(self) -> None:
        log = self.query_one(EventLog)
        if self.focused is not log:
            log.focus()
            return
        log.select()

    def on_event_log_selected(self, message: EventLog.Selected) -> None:
        pane = self.query_one("#events-detail", VerticalScroll)
        body = self.query_one("#events-detail-body", Static)
        row = message.row
        if pane.display and self.detail_row is not None and self.detail_row.id == row.id:
            self._close_detail()
            return
        self.detail_row = row
        if row.envelope is not None:
            body.update(detail_text(row.envelope))  # decoded now, not when it arrived
            ev = row.envelope.event
            pane.border_title = f"{fmt.clean(ev.type) or 'event'} · seq {row.seq}"
        else:
            body.update(Text(row.summary.plain))
            pane.border_title = "Marker"
        pane.border_subtitle = "enter/esc close"
        pane.display = True
        pane.scroll_home(animate=False)
        log = self.query_one(EventLog)
        self.call_after_refresh(log.keep_cursor_visible)  # the log just got shorter

    def action_copy(self) -> None:
        """The event under the cursor (the newest while following) as its JSON."""
        log = self.query_one(EventLog)
        row = log.selected or (log.rows[-1] if log.rows else None)
        event = row.envelope.event if row is not None and row.envelope is not None else None
        copy_value(self.app, "event JSON", None if event is None else
                   msgspec.json.encode(event).decode())

    def _close_detail(self) -> None:
        self.query_one("#events-detail").display = False
        self.query_one("#events-detail-body", Static).update("")
        self.detail_row = None

    def action_back(self) -> None:
        """esc: close the detail pane, then leave and clear the filter."""
        box = self.query_one("#events-filter", Input)
        if self.query_one("#events-detail").display:
            self._close_detail()
            return
        if box.display or self.query_text:
            box.value = ""
            box.display = False
            self.query_text = ""
            self._apply_filter()
            self.query_one(EventLog).focus()


def _clock_text(now: float) -> str:
    return local_time(int(now * 1_000_000))


__all__ = ["EventsScreen", "empty_events_message", "marker_text"]
