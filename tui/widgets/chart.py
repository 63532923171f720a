"""A time-series line chart (plotext via textual-plotext) with readable axes.

The screen hands over whole buckets from the ring (1-minute or 1-hour); the chart
decides, for its current width (on every update and resize), how many buckets to merge so
there is about one point per column (a 6 h range is 360 minutes, the plot may be
60 columns wide). Merged buckets are aligned to absolute multiples of their size,
so the curve does not shimmer as the window slides. Axes are ours, not plotext's:
x ticks fall on round local times (``HH:MM`` for minutes, dates for days), y ticks
on round values formatted like the rest of the UI (``1.2k``, ``$0.05``).

The last bucket usually holds "now": a minute 20 seconds old, a 5-minute point two
minutes in, the current hour. Drawn as if complete, every chart ended in a drop to zero
and read as "activity stopped" (issue 17). So the chart asks the app's clock how much of
the last point has elapsed and draws that point apart, dimmed: its rate so far scaled
to the whole bucket, or nothing while too little of it has passed to say (and nothing
for a single open minute: gridctl flushes a minute's counts once, at a phase of its own).

The cursor (``set_cursor``/``step_cursor``) marks one drawn point with a vertical line
and reads it exactly in the legend's row; a window scrolled back (``ChartData.ending``)
says where it ends on a row over the plot; ``history_from`` drops the buckets before
what the source holds, and a window wholly before it says so (``chart_cursor.py``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.align import Align
from rich.console import Group
from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

from tokentop.tui import format as fmt
from tokentop.tui.widgets.chart_cursor import (
    CURSOR_RGB,
    Reading,
    no_data_note,
    readout,
    scroll_label,
    trim,
    whole,
)

MINUTE_FACTORS = (1, 2, 3, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)
HOUR_FACTORS = (1, 2, 3, 4, 6, 12, 24, 48, 168)
TICK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 4320, 10080)
TICK_SPACING = 10  # columns per x label ("May 05" plus air)
YLABEL_WIDTH = 6  # y labels are padded to this, so stacked charts line up
MIN_PARTIAL = 0.25  # below this share of its bucket, "now" is not drawn (too early to say)
PARTIAL_LEGEND = "╌ so far"  # the open last point (dimmed): its rate so far


@dataclass(frozen=True)
class Series:
    """One line: a label for the legend, one value per bucket, an ``#rrggbb`` colour."""

    label: str
    values: Sequence[int]
    color: str


@dataclass(frozen=True)
class ChartData:
    """What the screen wants drawn: bucket start minutes and the series over them."""

    minutes: Sequence[int]
    interval: int
    series: Sequence[Series]
    quiet: str = "no activity"  # the legend's word when nothing is drawn (or no source)
    note: str = ""  # with no series: said in the chart's body instead of empty axes
    ending: int | None = None  # scrolled back: the window's last minute (None: now)
    history_from: int | None = None  # the source's oldest minute: nothing known before


def known(data: ChartData) -> ChartData:
    """``data`` without the buckets before ``history_from``; wholly before it, no series
    and a note that says so (empty axes would read as zero)."""
    if data.history_from is None:
        return data
    cut = trim(data.minutes, data.interval, data.history_from)
    if cut == 0:
        return data
    if cut >= len(data.minutes):
        words = no_data_note(data.history_from)
        return ChartData(data.minutes, data.interval, [], words, words, data.ending,
                         data.history_from)
    return ChartData(data.minutes[cut:], data.interval,
                     [Series(s.label, s.values[cut:], s.color) for s in data.series],
                     data.quiet, data.note, data.ending, data.history_from)


def merge_factor(n: int, interval: int, columns: int) -> int:
    """Smallest round number of buckets to merge so ``n`` buckets fit ``columns``."""
    factors = HOUR_FACTORS if interval >= 60 else MINUTE_FACTORS
    for f in factors:
        if math.ceil(n / f) <= max(1, columns):
            return f
    return factors[-1]


def downsample(
    minutes: Sequence[int], values: Sequence[Sequence[int]], interval: int, factor: int
) -> tuple[list[int], list[list[int]]]:
    """Sum buckets into groups of ``factor`` aligned to absolute time."""
    if factor <= 1:
        return list(minutes), [list(v) for v in values]
    span = interval * factor
    xs: list[int] = []
    out: list[list[int]] = [[] for _ in values]
    for i, m in enumerate(minutes):
        start = m - m % span
        if not xs or xs[-1] != start:
            xs.append(start)
            for o in out:
                o.append(0)
        for o, v in zip(out, values, strict=True):
            o[-1] += v[i]
    return xs, out


def nice_ceiling(value: float) -> float:
    """The next round number (1, 2, 2.5 or 5 times a power of ten) at or above ``value``."""
    if value <= 0:
        return 1.0
    exp = math.floor(math.log10(value))
    for m in (1, 2, 2.5, 5, 10):
        candidate = m * 10**exp
        if candidate >= value * 0.999999:
            return candidate
    return 10 ** (exp + 1)  # pragma: no cover


def y_ticks(value: float, most: int) -> list[float]:
    """At most ``most`` round ticks from 0 to just above ``value`` (0, 20k, 40k...)."""
    if value <= 0:
        return [0.0, 1.0]
    step = nice_ceiling(value / max(1, most - 1))
    top = math.ceil(value / step - 1e-9) * step
    return [i * step for i in range(round(top / step) + 1)]


def x_ticks(lo: int, hi: int, columns: int) -> tuple[list[int], list[str]]:
    """Round local times between ``lo`` and ``hi`` (minutes) and their labels."""
    span = max(1, hi - lo)
    most = max(2, columns // TICK_SPACING)
    # At most ``most`` ticks, counting both ends: with one more than fits, plotext drops
    # labels that collide, and which it dropped varied from run to run at 60 columns.
    step = next((s for s in TICK_STEPS if span // s + 1 <= most), TICK_STEPS[-1])
    unit = min(step, 1440)  # ticks sit on multiples of this in local time
    every = max(1, step // 1440)  # and, for multi-day steps, on every n-th day
    ticks: list[int] = []
    m = lo + (-(lo + fmt.local_offset_minutes(lo))) % unit
    while m <= hi:
        local = m + fmt.local_offset_minutes(m)
        if local % unit == 0 and (local // 1440) % every == 0:
            ticks.append(m)
        m += unit
        m += (-(m + fmt.local_offset_minutes(m))) % unit  # re-align across DST changes
    labels = []
    for t in ticks:
        dt = fmt.local_dt(t)
        if step >= 1440 or (dt.hour == 0 and dt.minute == 0 and span > 60):
            labels.append(dt.strftime("%b %d"))
        else:
            labels.append(dt.strftime("%H:%M"))
    return ticks, labels


def per_label(interval: int, factor: int) -> str:
    """``per 5 min``, ``per hour``: what one point of the curve adds up."""
    minutes = interval * factor
    if minutes == 1:
        return "per minute"
    if minutes < 60:
        return f"per {minutes} min"
    if minutes == 60:
        return "per hour"
    if minutes < 1440:
        return f"per {minutes // 60} h"
    if minutes == 1440:
        return "per day"
    return f"per {minutes // 1440} d"


def _rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


@dataclass(frozen=True)
class PlotLayout:
    """Everything plotext needs for one size: merged points and both axes."""

    width: int
    height: int
    factor: int
    xs: list[int]
    ys: list[list[int]]
    x_ticks: list[int]
    x_labels: list[str]
    y_ticks: list[float]
    y_labels: list[str]
    partial: float = 1.0  # share of the last point's bucket elapsed (1.0: complete)
    projected: tuple[float, ...] = ()  # per series: the last point scaled to its bucket

    @property
    def open_end(self) -> bool:
        """The last point is still filling: it is drawn apart, not as a complete one."""
        return self.partial < 1.0


def elapsed_share(last_start: int, span: int, now_minute: float | None) -> float:
    """How much of the bucket ``[last_start, last_start + span)`` lies before ``now``
    (fractional minutes); 1.0 when it is over, or when there is no clock."""
    if now_minute is None or now_minute >= last_start + span:
        return 1.0
    return max(0.0, (now_minute - last_start) / span)


def layout_plot(data: ChartData, width: int, height: int,
                value_format: Callable[[float], str],
                now_minute: float | None = None) -> PlotLayout | None:
    """Merge buckets to the width and place the ticks; None when there is nothing to draw.

    ``now_minute`` (fractional minutes since the epoch) marks the last point partial
    when its bucket has not ended yet; the axis is scaled to what is drawn of it."""
    n = len(data.minutes)
    if n == 0 or width < 10 or height < 4:
        return None
    top_value = max((max(s.values, default=0) for s in data.series), default=0)
    # The y labels' width decides how many columns the data gets.
    label_width = max(YLABEL_WIDTH, *(len(value_format(v)) for v in y_ticks(top_value, 5)))
    columns = max(4, width - label_width - 1)
    factor = merge_factor(n, data.interval, columns)
    xs, ys = downsample(data.minutes, [s.values for s in data.series], data.interval, factor)
    span = data.interval * factor
    partial = elapsed_share(xs[-1], span, now_minute)
    projected: tuple[float, ...] = ()
    drawn: list[Sequence[float]] = list(ys)
    if partial < 1.0:
        drawn = [v[:-1] for v in ys]
        # A single open minute is not scaled: gridctl flushes once a minute, so it holds
        # nothing, then a whole minute; its line just ends at the last complete one.
        if partial >= MIN_PARTIAL and span > 1:
            projected = tuple(v[-1] / partial for v in ys)
            drawn.append(projected)
    top = max((max(v, default=0) for v in drawn), default=0)
    yt = y_ticks(top, 3 if height < 12 else 5)
    lo, hi = xs[0], max(xs[-1], xs[0] + 1)
    xt, xl = x_ticks(lo, hi, columns)
    # Same label width in every chart, so stacked charts share their x positions.
    yl = [value_format(v).rjust(label_width) for v in yt]
    return PlotLayout(width, height, factor, xs, ys, xt, xl, yt, yl, partial, projected)


def _dim(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """The colour of a partial point: the series' own, darker (as dim text is)."""
    return (rgb[0] * 11 // 20, rgb[1] * 11 // 20, rgb[2] * 11 // 20)


class TimeChart(PlotextPlot):
    """Lines over time; ``value_format`` formats the y axis (token counts or USD)."""

    def __init__(self, title: str, value_format: Callable[[float], str], *, id: str,
                 exact: Callable[[int], str] | None = None) -> None:
        super().__init__(id=id)
        self.value_format = value_format
        # The cursor's readout: exact values (a USD axis reads dollars, any other whole).
        self.exact = exact or (fmt.usd if value_format is fmt.usd_axis else whole)
        self.data = ChartData((), 1, ())
        self.plot_layout: PlotLayout | None = None
        self.cursor: int | None = None  # start minute of the point under the cursor
        self.border_title = title

    @property
    def drawn(self) -> list[Series]:
        """The series as plotted (merged to the width): what a user sees."""
        if self.plot_layout is None:
            return []
        return [Series(s.label, v, s.color)
                for s, v in zip(self.data.series, self.plot_layout.ys, strict=True)]

    def show(self, data: ChartData) -> None:
        """Replace what is drawn."""
        self.data = known(data)
        self._relayout()

    # -- the cursor ------------------------------------------------------------------
    def cursor_index(self) -> int | None:
        """The drawn point under the cursor: the one whose span holds its minute."""
        layout = self.plot_layout
        if self.cursor is None or layout is None or not self.data.series:
            return None
        xs = layout.xs
        return max(0, max((i for i, x in enumerate(xs) if x <= self.cursor), default=0))

    def step_cursor(self, step: int) -> int | None:
        """Move the cursor ``step`` points (the first press: the last complete point);
        returns the minute it is on, for the charts beside it."""
        layout = self.plot_layout
        if layout is None or not self.data.series:
            return None
        last = len(layout.xs) - 1
        index = self.cursor_index()
        if index is None:
            index = last - 1 if layout.open_end and last > 0 else last
        else:
            index = min(last, max(0, index + step))
        self.set_cursor(layout.xs[index])
        return self.cursor

    def set_cursor(self, minute: int | None) -> None:
        """Put the cursor on the point holding ``minute`` (None: hide it)."""
        self.cursor = minute
        self.border_subtitle = self._legend(self.plot_layout)
        self.refresh()

    def reading(self) -> list[Reading]:
        """Every series' exact value at the cursor (empty: no cursor)."""
        index = self.cursor_index()
        if index is None or self.plot_layout is None:
            return []
        return [Reading(s.label, s.color, v[index])
                for s, v in zip(self.data.series, self.plot_layout.ys, strict=True)]

    @property
    def header_rows(self) -> int:
        """A row over the plot while scrolled back: where the window ends."""
        return 1 if self.data.ending is not None else 0

    def on_resize(self) -> None:
        self._relayout()

    def _relayout(self) -> None:
        # Done here, not in render(): the legend (border subtitle) names the merge
        # factor, and a border set while rendering would show one frame late.
        size = self.content_size
        self.plot_layout = layout_plot(self.data, size.width, size.height - self.header_rows,
                                       self.value_format, self._now_minute())
        self.border_subtitle = self._legend(self.plot_layout)
        self.refresh()

    def _now_minute(self) -> float:
        """The app's clock (a fixed one in tests), in fractional minutes."""
        clock: Callable[[], float] = getattr(self.app, "clock", time.time)
        return clock() / 60

    def _legend(self, layout: PlotLayout | None) -> Text:
        index = self.cursor_index()
        if index is not None and layout is not None:
            open_bucket = layout.open_end and index == len(layout.xs) - 1
            return readout(layout.xs[index], self.data.interval * layout.factor,
                           self.reading(), self.exact, self._now_minute(),
                           open_bucket=open_bucket, width=max(10, self.size.width - 4))
        factor = layout.factor if layout else 1
        legend = Text(no_wrap=True)
        for s in self.data.series:
            legend.append("━ ", style=s.color)
            legend.append(fmt.clean(s.label))
            legend.append("  ")
        if not any(any(s.values) for s in self.data.series):
            legend.append(f"{fmt.clean(self.data.quiet)}  ", style="italic")
        legend.append(per_label(self.data.interval, factor), style="dim")
        if layout is not None and layout.projected and any(layout.projected):
            legend.append(f"  {PARTIAL_LEGEND}", style="dim")
        return legend

    def render(self) -> RenderResult:
        size = self.content_size
        if self.data.ending is None:
            return self._render_plot(size.width, size.height)
        label = scroll_label(self.data.ending, size.width)
        plot = self._render_plot(size.width, size.height - 1)
        if not plot:
            return label
        return Group(label, plot)

    def _render_plot(self, width: int, height: int) -> RenderResult:
        plt = self.plt
        plt.clear_figure()
        layout = self.plot_layout
        if layout is None or (layout.width, layout.height) != (width, height):
            layout = self.plot_layout = layout_plot(self.data, width, height,
                                                    self.value_format, self._now_minute())
        if layout is None:
            return ""
        if self.data.note and not self.data.series:
            # Nothing can be drawn, and empty axes would read as "zero": say why instead.
            note = "\n".join(fmt.clean(line) for line in self.data.note.splitlines())
            return Align.center(Text(note, style="italic dim", justify="center"),
                                vertical="middle", height=height)
        xs = layout.xs[:-1] if layout.open_end else layout.xs
        for i, (s, values) in enumerate(zip(self.data.series, layout.ys, strict=True)):
            color = _rgb(s.color)
            if xs:
                plt.plot(xs, values[: len(xs)], marker="braille", color=color)
            if layout.projected:
                # The open bucket: from the last complete point to its rate so far.
                tail_x = layout.xs[-2:] if xs else layout.xs[-1:]
                tail_y = [*values[len(xs) - 1: len(xs)], layout.projected[i]]
                plt.plot(tail_x, tail_y[-len(tail_x):], marker="braille", color=_dim(color))
        index = self.cursor_index()
        if index is not None:
            plt.vline(layout.xs[index], color=CURSOR_RGB)
        plt.xaxes(True, False)  # the widget's border is the frame: keep only the axes
        plt.yaxes(True, False)
        plt.xlim(layout.xs[0], max(layout.xs[-1], layout.xs[0] + 1))
        plt.ylim(0, layout.y_ticks[-1])
        plt.xticks(layout.x_ticks, layout.x_labels)
        plt.yticks(layout.y_ticks, layout.y_labels)
        # PlotextPlot.render, at the height left under the row over the plot.
        plt.plotsize(width, height)
        plt._set_size(width, height)
        plt.theme(self._get_plotext_theme_name(self.app.theme))
        return Text.from_ansi(plt.build())
