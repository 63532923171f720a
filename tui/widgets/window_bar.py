"""The Usage screen's window selector: 1d / 3d / 7d / 30d / all, clickable, ``w`` cycles."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Click
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from tokentop.store.usage.read import WINDOWS


def step_window(current: str, step: int) -> str:
    """The window ``step`` places after ``current``, wrapping around."""
    index = WINDOWS.index(current) if current in WINDOWS else 0
    return WINDOWS[(index + step) % len(WINDOWS)]


class WindowItem(Static):
    """One clickable window label."""

    def __init__(self, name: str) -> None:
        super().__init__(name, id=f"window-{name}", classes="range-item")
        self.window_name = name

    def on_click(self, event: Click) -> None:
        event.stop()
        self.post_message(WindowBar.Picked(self.window_name))


class WindowBar(Horizontal):
    """A row of window labels; the current one has class ``-active``."""

    class Picked(Message):
        """The user clicked a window."""

        def __init__(self, window: str) -> None:
            super().__init__()
            self.window = window

    value: reactive[str] = reactive("1d")

    def compose(self) -> ComposeResult:
        for name in WINDOWS:
            yield WindowItem(name)

    def watch_value(self, value: str) -> None:
        for item in self.query(WindowItem):
            item.set_class(item.window_name == value, "-active")
