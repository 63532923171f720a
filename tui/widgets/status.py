"""The status line: where the data comes from and how fresh it is, or replay progress.

While a large history replays the line turns into a progress bar with a percentage,
so the screen is useful (and honest) from the first frame; afterwards it shows how
far back the data goes, what was read, and how long ago the last line arrived.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar


class StatusBar(Horizontal):
    """Left: provenance or progress text. Right: counters. A progress bar in between."""

    def compose(self) -> ComposeResult:
        yield Label(id="status-left")
        yield ProgressBar(total=100, show_eta=False, show_percentage=False, id="replay-bar")
        yield Label(id="status-right")

    def show(self, left: Text, right: Text, progress: float | None = None) -> None:
        """Update both texts; ``progress`` in 0..1 shows the bar, ``None`` hides it."""
        self.query_one("#status-left", Label).update(left)
        self.query_one("#status-right", Label).update(right)
        bar = self.query_one("#replay-bar", ProgressBar)
        bar.display = progress is not None
        if progress is not None:
            bar.update(progress=round(progress * 100, 1))
