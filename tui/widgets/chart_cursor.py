"""The chart cursor's readout and the scrolled-back window's words (issue 17).

A chart shows a range ending now, merged to about one point per column: a user could
see a shape but never read a bucket's number. The cursor (``,`` back, ``.`` forward,
``esc`` hides it) sits on one drawn point, the chart marks it with a vertical line, and
the row under the chart (where the legend was) reads that point exactly: when it starts,
how long it is, and every series' value, tokens whole with separators (``12,345``: the
cards abbreviate, the readout is where the exact number is read) and cost in dollars.

Scrolling back (``<`` older, ``>`` newer, never past now) moves the whole window by its
own width. The row over the chart says where the window ends and how to come back,
and a window before what the source still holds says "no data before ..." instead of
drawing empty axes that read as zero.

Here are the words and the keys' arithmetic; ``chart.py`` draws, the screens own the
offset (their cards follow the window shown, so every number on screen describes it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from rich.text import Text
from textual.binding import Binding, BindingType

from tokentop.tui import format as fmt

CURSOR_RGB = (229, 229, 229)  # the marker: neutral, unlike any series colour


@dataclass(frozen=True)
class Reading:
    """One series' value at the cursor."""

    label: str
    color: str
    value: int


def whole(n: int) -> str:
    """A token count exactly, with separators: ``1,234,567``."""
    return f"{n:,}"


def stamp(minute: int, now_minute: float | None) -> str:
    """``18:05`` today, ``2026-12-04 18:05`` any other day (ISO: no order to guess)."""
    dt = fmt.local_dt(minute)
    if now_minute is not None and dt.date() == fmt.local_dt(int(now_minute)).date():
        return dt.strftime("%H:%M")
    return dt.strftime("%Y-%m-%d %H:%M")


def span_words(minutes: int) -> str:
    """``1 min``, ``5 min``, ``1 h``, ``1 d``: how long the bucket under the cursor is."""
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 1440:
        return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"
    return f"{minutes // 1440} d"


def readout(start: int, span: int, readings: Sequence[Reading],
            exact: Callable[[int], str], now_minute: float | None,
            *, open_bucket: bool = False, width: int = 1000) -> Text:
    """``▏12:05 (5 min) ━ input 1,234 ━ output 567``: the row under a chart, in
    ``width`` cells. Narrower, the span goes first, then the labels (the colours name
    the series), then exact counts give way to the cards' abbreviations (``17.6k``),
    last the time (the marker and the x axis still place it): a number is never cut."""
    short = fmt.tokens if exact is whole else exact
    variants = [(True, True, exact, True), (False, True, exact, True),
                (False, False, exact, True), (False, False, short, True),
                (False, False, short, False)]
    text = Text()
    for with_span, labels, spell, when in variants:
        text = _readout(start, span, readings, spell, now_minute, open_bucket,
                        with_span, labels, when)
        if text.cell_len <= width:
            break
    return text


def _readout(start: int, span: int, readings: Sequence[Reading],
             spell: Callable[[int], str], now_minute: float | None, open_bucket: bool,
             with_span: bool, labels: bool, when: bool = True) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if when:
        text.append("▏", style="bold")
        text.append(stamp(start, now_minute), style="bold")
    if with_span:
        text.append(f" ({span_words(span)}{', so far' if open_bucket else ''})",
                    style="dim")
    elif open_bucket:
        text.append(" so far", style="dim")
    for r in readings:
        text.append("  ━ " if with_span else " ━ " if len(text) else "━ ", style=r.color)
        if labels:
            text.append(f"{fmt.clean(r.label)} ")
        text.append(spell(r.value), style="bold")
    return text


def scroll_label(end_minute: int, width: int) -> Text:
    """Where a scrolled-back window ends and how to return, in ``width`` cells: whole
    words or fewer of them, never a time cut mid-digit."""
    when = fmt.local_stamp(end_minute)
    choices = (f"ending {when} (scrolled back; > to return)",
               f"ending {when} (> to return)", f"ending {when}", when)
    chosen = next((c for c in choices if len(c) <= width), choices[-1])
    return Text(chosen, style="bold", no_wrap=True, overflow="ellipsis")


def no_data_note(history_from: int) -> str:
    """What a window wholly before the source's history shows instead of zeros."""
    return f"no data before {fmt.local_stamp(history_from)}"


def scrolled_end(now_minute: int, length: int, back: int) -> int:
    """The last minute of a window ``back`` range-widths before the one ending now."""
    return now_minute - max(0, back) * length


def can_scroll_back(end_minute: int, history_from: int | None) -> bool:
    """``<`` goes on while the window shown still holds some history: one step more
    shows "no data before ...", and there it stops."""
    return history_from is not None and end_minute >= history_from


def trim(minutes: Sequence[int], interval: int, history_from: int) -> int:
    """How many leading buckets end before ``history_from`` (nothing known of them)."""
    return sum(1 for m in minutes if m + interval <= history_from)


class CursorChart(Protocol):
    """What the keys need of a chart (``chart.TimeChart``)."""

    cursor: int | None

    def step_cursor(self, step: int) -> int | None: ...
    def set_cursor(self, minute: int | None) -> None: ...


def move_cursor(charts: Sequence[CursorChart], step: int) -> bool:
    """``,``/``.``: move the first chart's cursor, and the others' to the same minute
    (charts stacked on one x axis read the same bucket). False: nothing to point at."""
    if not charts:
        return False
    minute = charts[0].step_cursor(step)
    for chart in charts[1:]:
        chart.set_cursor(minute)
    return minute is not None


def hide_cursor(charts: Sequence[CursorChart]) -> bool:
    """``esc``: hide the cursor; False when none was shown (esc means something else)."""
    shown = any(c.cursor is not None for c in charts)
    for chart in charts:
        chart.set_cursor(None)
    return shown


# The keys, for every screen with time charts (its ``action_chart_cursor(step)`` and
# ``action_chart_scroll(step)``); out of the footer: README and help list them.
CHART_BINDINGS: list[BindingType] = [
    Binding("comma", "chart_cursor(-1)", "Cursor back", key_display=",", show=False,
            id="chart.cursor-back"),
    Binding("full_stop", "chart_cursor(1)", "Cursor on", key_display=".", show=False,
            id="chart.cursor-on"),
    Binding("less_than_sign", "chart_scroll(-1)", "Older", key_display="<", show=False,
            id="chart.older"),
    Binding("greater_than_sign", "chart_scroll(1)", "Newer", key_display=">", show=False,
            id="chart.newer"),
]

# For a screen whose ``esc`` means nothing else: it hides the cursor
# (``action_chart_cursor_off``). Screens with their own ``esc`` hide it there first.
CURSOR_ESCAPE = Binding("escape", "chart_cursor_off", "Hide cursor", key_display="esc",
                        show=False, id="chart.cursor-off")
