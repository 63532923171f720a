"""The screen bar: every top-level screen by number and name, the current one marked.

One row at the top of every screen, so the digits that switch screens are on screen
(htop, btop and k9s show theirs the same way) and a click switches too. The names are
never cut: when the full row does not fit, the other screens show their numbers only
and the current one keeps its name; the "tokentop" title goes first.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.events import Click
from textual.widget import Widget

TITLE = "tokentop"
GAP = 0  # columns between two items (each item has a column of padding a side)


def layout(titles: list[str], current: int, width: int) -> tuple[list[str], bool]:
    """The label of each item and whether the title fits, for ``width`` columns.

    Full names if they fit, else numbers with the current name; the title only if it
    fits beside them. Labels are whole words, never cut.
    """
    full = [f"{i + 1} {t}" for i, t in enumerate(titles)]
    short = [f"{i + 1} {t}" if i == current else str(i + 1) for i, t in enumerate(titles)]
    for labels in (full, short):
        used = sum(len(label) + 2 for label in labels) + GAP * (len(labels) - 1)
        if used <= width:
            return labels, used + GAP + len(TITLE) + 2 <= width
    return short, False


class ScreenBar(Widget):
    """Clickable screen names; ``current`` is the index of the screen it sits on."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "screen-bar--item", "screen-bar--current", "screen-bar--title"}

    DEFAULT_CSS = """
    ScreenBar { height: 1; width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._spans: list[tuple[int, int, int]] = []  # (start, end, screen index)

    def _titles_and_current(self) -> tuple[list[str], int]:
        """The app's screens in order, and which one this bar sits on."""
        specs = getattr(self.app, "specs", ())
        titles = [spec.title for spec in specs]
        for i, spec in enumerate(specs):
            if type(self.screen) is spec.factory:
                return titles, i
        modes = [spec.mode for spec in specs]
        mode = getattr(self.app, "current_mode", None)
        return titles, modes.index(mode) if mode in modes else -1

    def render(self) -> Text:
        titles, current = self._titles_and_current()
        width = self.size.width
        labels, with_title = layout(titles, current, width)
        item = self.get_component_rich_style("screen-bar--item", partial=True)
        marked = self.get_component_rich_style("screen-bar--current", partial=True)
        text = Text(no_wrap=True, overflow="crop", end="")
        self._spans = []
        for i, label in enumerate(labels):
            if i:
                text.append(" " * GAP)
            start = len(text)
            text.append(f" {label} ", style=marked if i == current else item)
            self._spans.append((start, len(text), i))
        if with_title:
            pad = width - len(text) - len(TITLE) - 1
            text.append(" " * pad)
            text.append(TITLE, style=self.get_component_rich_style(
                "screen-bar--title", partial=True) or Style(bold=True))
        return text

    def screen_at(self, x: int) -> int | None:
        """The index of the screen whose item covers column ``x``, if any."""
        return next((i for start, end, i in self._spans if start <= x < end), None)

    async def on_click(self, event: Click) -> None:
        index = self.screen_at(event.x)
        if index is not None:
            event.stop()
            await self.app.run_action(f"pick_screen({index})")

    def on_resize(self) -> None:
        self.refresh()
