"""Text bars: daily token bars and quota gauges, drawn as ``rich.text.Text``.

Plain block characters instead of a plot: one row per day (or per gauge) reads well
at 80 columns, wraps nothing, and stays exact in snapshots.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from rich.text import Text
from textual.widgets import Static

from tokentop.tui import format as fmt

EIGHTHS = " ▏▎▍▌▋▊▉█"


def bar(fraction: float, width: int) -> str:
    """A left-aligned bar ``width`` cells wide, filled to ``fraction`` (eighth cells)."""
    width = max(0, width)
    cells = max(0.0, min(1.0, fraction)) * width
    full = int(cells)
    part = int((cells - full) * 8)
    out = "█" * full + (EIGHTHS[part] if full < width and part else "")
    return out.ljust(width)


def gauge(fraction: float, width: int, style: str, empty_style: str) -> Text:
    """A bar with its unfilled part shown (``███░░░``)."""
    width = max(0, width)
    filled = round(max(0.0, min(1.0, fraction)) * width)
    text = Text(no_wrap=True)
    text.append("█" * filled, style=style)
    text.append("░" * (width - filled), style=empty_style)
    return text


class DailyBars(Static):
    """Tokens and cost per day: ``Nov 20 ██████▌   1.2M  $3.41``, newest at the bottom.

    The bar is what gives way on a narrow panel; the numbers are always whole (a
    day's cost ``—`` when nothing that day had a price)."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.days: Sequence[tuple[date, int, float]] = ()
        self.color = "#0178d4"

    def show(self, days: Sequence[tuple[date, int, float]], color: str) -> None:
        self.days = days
        self.color = color
        self.refresh(layout=False)
        self.update(self._text())

    def on_resize(self) -> None:
        self.update(self._text())

    def _text(self) -> Text:
        height = max(1, self.content_size.height)
        width = self.content_size.width
        days = list(self.days)[-height:]
        text = Text(no_wrap=True)
        if not days:
            text.append("no activity in this window", style="italic dim")
            return text
        top = max((t for _, t, _ in days), default=0) or 1
        costs = [fmt.usd(round(c * 1_000_000)) for _, _, c in days]
        cost_w = max(len(c) for c in costs) + 1
        bar_width = width - 7 - 6 - cost_w
        for i, ((d, tokens, _cost), cost) in enumerate(zip(days, costs, strict=True)):
            if i:
                text.append("\n")
            text.append(d.strftime("%b %d"), style="dim")  # "Dec 05": never read as 12 May
            if bar_width >= 2:
                text.append(" ")
                text.append(bar(tokens / top, bar_width - 1), style=self.color)
            text.append(fmt.tokens(tokens).rjust(6))
            text.append(cost.rjust(cost_w))
        return text
