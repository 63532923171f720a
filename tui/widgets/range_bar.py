"""The range selector: Live / 1h / 6h / 24h / 7d, clickable, driven by ``r``/``R``.

Digits are reserved for switching screens, so ranges are cycled with ``r`` and picked
with the mouse; this widget only renders the choice and reports clicks.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Click
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

RANGE_CHOICES: tuple[tuple[str, str], ...] = (
    ("30m", "Live"),
    ("1h", "1h"),
    ("6h", "6h"),
    ("24h", "24h"),
    ("7d", "7d"),
)
"""(store range name, label): Live is the last 30 minutes at one-minute buckets."""


def step_range(current: str, step: int) -> str:
    """The range ``step`` places after ``current``, wrapping around."""
    names = [name for name, _ in RANGE_CHOICES]
    index = names.index(current) if current in names else 0
    return names[(index + step) % len(names)]


class RangeItem(Static):
    """One clickable range label."""

    def __init__(self, name: str, label: str) -> None:
        super().__init__(label, id=f"range-{name}", classes="range-item")
        self.range_name = name

    def on_click(self, event: Click) -> None:
        event.stop()
        self.post_message(RangeBar.Picked(self.range_name))


class RangeBar(Horizontal):
    """A row of range labels; the current one is highlighted (class ``-active``)."""

    class Picked(Message):
        """The user clicked a range."""

        def __init__(self, range_name: str) -> None:
            super().__init__()
            self.range_name = range_name

    value: reactive[str] = reactive("30m")

    def compose(self) -> ComposeResult:
        for name, label in RANGE_CHOICES:
            yield RangeItem(name, label)

    def watch_value(self, value: str) -> None:
        for item in self.query(RangeItem):
            item.set_class(item.range_name == value, "-active")
