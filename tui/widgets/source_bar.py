"""The Overview's source switch: metrics files / usage store / both, clickable, ``s`` cycles.

Drawn like the range bar (the active choice highlighted) so which data the charts show
is read at a glance, not remembered from how many times ``s`` was pressed.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Click
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

SOURCE_CHOICES: tuple[tuple[str, str], ...] = (
    ("metrics", "metrics"),
    ("usage", "usage"),
    ("both", "both"),
)
"""(source name, label): gridctl's metrics files, tokentop's usage store, or both."""

SOURCE_WORDS: dict[str, str] = {
    "metrics": "metrics files",
    "usage": "usage store",
    "both": "metrics files + usage store",
}


def step_source(current: str, step: int) -> str:
    """The source ``step`` places after ``current``, wrapping around."""
    names = [name for name, _ in SOURCE_CHOICES]
    index = names.index(current) if current in names else 0
    return names[(index + step) % len(names)]


class SourceItem(Static):
    """One clickable source label."""

    def __init__(self, name: str, label: str) -> None:
        super().__init__(label, id=f"source-{name}", classes="range-item")
        self.source_name = name

    def on_click(self, event: Click) -> None:
        event.stop()
        self.post_message(SourceBar.Picked(self.source_name))


class SourceBar(Horizontal):
    """A row of source labels; the current one has class ``-active``."""

    class Picked(Message):
        """The user clicked a source."""

        def __init__(self, source_name: str) -> None:
            super().__init__()
            self.source_name = source_name

    value: reactive[str] = reactive("metrics")

    def compose(self) -> ComposeResult:
        for name, label in SOURCE_CHOICES:
            yield SourceItem(name, label)

    def watch_value(self, value: str) -> None:
        for item in self.query(SourceItem):
            item.set_class(item.source_name == value, "-active")
