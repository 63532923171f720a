"""Status lines: where the data comes from and how fresh it is, or replay progress.

While a large history replays the Overview's line turns into a progress bar with a
percentage, so the screen is useful (and honest) from the first frame; afterwards it
shows how far back the data goes, what was read, and how long ago the last line arrived.

Every status line is a ``StatusLine``: too long for its width, it drops its last
`` · ``-separated items and says so with ``…``; a word or a number is never cut.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.geometry import Size
from textual.visual import VisualType
from textual.widgets import Label, ProgressBar

SEPARATOR = " · "
MORE = "…"


def fit_at_separator(text: Text, width: int) -> Text:
    """``text`` if it fits ``width`` cells, else its longest head that ends before a
    separator, then `` …`` (as ``cells.whole_items``, for lines built whole); without
    one that fits, the head up to a space.

    Only a single word wider than the line is cut (there is nothing else to show).
    """
    if width <= 0 or text.cell_len <= width:
        return text
    plain = text.plain
    room = width - cell_len(MORE) - 1  # " …", as cells.whole_items ends a line
    for sep in (SEPARATOR, " "):
        at = plain.rfind(sep)
        while at > 0:
            head = text[:at]
            if head.cell_len <= room and head.plain.strip(" ·"):
                head.append(f" {MORE}", style="dim")
                return head
            at = plain.rfind(sep, 0, at)
    cut = text.copy()
    cut.truncate(width, overflow="ellipsis")
    return cut


def _as_text(content: VisualType) -> Text:
    if isinstance(content, Text):
        return content
    return Text(str(content))


class StatusLine(Label):
    """A one-row label that fits its text at a separator (see ``fit_at_separator``)."""

    def __init__(self, content: VisualType = "", *, id: str | None = None,
                 classes: str | None = None) -> None:
        self._full = _as_text(content)
        super().__init__(self._full, id=id, classes=classes)

    @property
    def full_text(self) -> Text:
        """The whole text, as the screen gave it (what is shown may be its head)."""
        return self._full

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        self._full = _as_text(content)
        super().update(self._fitted(), layout=layout)

    def _fitted(self) -> Text:
        width = self.content_size.width
        return fit_at_separator(self._full, width) if width > 0 else self._full

    def get_content_width(self, container: Size, viewport: Size) -> int:
        """As wide as the whole text (``width: auto`` grows back when there is room)."""
        return self._full.cell_len

    def on_resize(self) -> None:
        super().update(self._fitted(), layout=False)


class StatusBar(Horizontal):
    """Left: provenance or progress text. Right: counters. A progress bar in between."""

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status-left")
        yield ProgressBar(total=100, show_eta=False, show_percentage=False, id="replay-bar")
        yield StatusLine(id="status-right")

    def show(self, left: Text, right: Text, progress: float | None = None) -> None:
        """Update both texts; ``progress`` in 0..1 shows the bar, ``None`` hides it."""
        self.query_one("#status-left", StatusLine).update(left)
        self.query_one("#status-right", StatusLine).update(right)
        bar = self.query_one("#replay-bar", ProgressBar)
        bar.display = progress is not None
        if progress is not None:
            bar.update(progress=round(progress * 100, 1))
