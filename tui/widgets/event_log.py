"""A virtualised, bounded log of browser events with a cursor.

``RichLog`` keeps every line it was given and cannot select one; a ``ListView`` builds a
widget per row. This keeps the last ``BACKLOG`` rows (a deque), the rows the current
filter lets through (a list, trimmed as the backlog evicts), and renders only the lines
on screen through the line API, caching each rendered row by (row, width, cursor). A
thousand new rows cost a list extend and one refresh, however many arrive.

The log follows the tail until the cursor moves up; ``end`` follows again. While
``frozen`` (paused) new rows go to the backlog only: the display stays still, and
unfreezing shows everything that arrived meanwhile (up to the backlog's size).
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Iterable
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tokentop.tui.widgets.event_text import LogRow, render_row, text_segments

BACKLOG = 5000

RowFilter = Callable[[LogRow], bool]


class EventLog(ScrollView, can_focus=True):
    """The Events screen's log: rows in, a window of lines out."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False, id="events.up"),
        Binding("down", "cursor(1)", "Down", show=False, id="events.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="events.page-up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="events.page-down"),
        Binding("home", "first", "First", show=False, id="events.first"),
        Binding("end", "follow", "Follow", show=False, id="events.follow"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {"event-log--cursor"}

    DEFAULT_CSS = """
    EventLog {
        overflow-x: hidden;
    }
    EventLog > .event-log--cursor {
        background: $primary 35%;
    }
    """

    class Selected(Message):
        """``enter`` on a row (the screen opens the detail pane for it)."""

        def __init__(self, row: LogRow) -> None:
            super().__init__()
            self.row = row

    def __init__(self, backlog: int = BACKLOG, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.backlog: deque[LogRow] = deque(maxlen=backlog)
        self.shown: list[LogRow] = []
        self.cursor: int | None = None  # index into ``shown``; None: follow the tail
        self.frozen = False
        self.empty_text = Text("waiting for events…", style="italic dim")
        self._filter: RowFilter = lambda _row: True
        # Lines on screen and a little scroll-back: each Strip carries several caches
        # of its own, and thousands of them make every garbage collection slower.
        self._cache: LRUCache[tuple[int, int, bool], Strip] = LRUCache(256)

    # -- rows ---------------------------------------------------------------------------
    def add(self, rows: Iterable[LogRow]) -> None:
        """Append rows (oldest first); one refresh for the whole batch."""
        rows = list(rows)
        if not rows:
            return
        self.backlog.extend(rows)
        if self.frozen:
            return
        keep = self._filter
        self.shown.extend(row for row in rows if keep(row))
        self._trim()
        self._changed()

    def set_filter(self, keep: RowFilter) -> None:
        """Show only the rows ``keep`` accepts (markers too, if it says so)."""
        self._filter = keep
        self._rebuild()

    def freeze(self, frozen: bool) -> None:
        self.frozen = frozen
        if not frozen:
            self._rebuild()

    def clear(self) -> None:
        self.backlog.clear()
        self.shown.clear()
        self.cursor = None
        self._changed()

    @property
    def selected(self) -> LogRow | None:
        if self.cursor is None or not self.shown:
            return None
        return self.shown[min(self.cursor, len(self.shown) - 1)]

    def _rebuild(self) -> None:
        picked = self.selected
        keep = self._filter
        self.shown = [row for row in self.backlog if keep(row)]
        if picked is not None:
            ids = [row.id for row in self.shown]
            i = bisect.bisect_left(ids, picked.id)
            self.cursor = min(i, len(self.shown) - 1) if self.shown else None
        self._changed()

    def _trim(self) -> None:
        """Drop visible rows the backlog evicted (ids grow, so it is a prefix)."""
        if not self.backlog or not self.shown:
            return
        oldest = self.backlog[0].id
        if self.shown[0].id >= oldest:
            return
        lo, hi = 0, len(self.shown)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.shown[mid].id < oldest:
                lo = mid + 1
            else:
                hi = mid
        del self.shown[:lo]
        if self.cursor is not None:
            # Not following: keep the same rows on screen as the top ones go.
            self.cursor = max(0, self.cursor - lo)
            self.scroll_to(y=max(0, self.scroll_offset.y - lo), animate=False, immediate=True)

    def _changed(self) -> None:
        self.virtual_size = Size(0, len(self.shown))  # rows fit the width: no x scroll
        if self.cursor is None:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    # -- rendering ----------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def on_resize(self) -> None:
        self.virtual_size = Size(0, len(self.shown))
        self.keep_cursor_visible()

    def keep_cursor_visible(self) -> None:
        """Scroll so the cursor's row (or the tail, when following) is on screen."""
        if self.cursor is None:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        else:
            self.scroll_to_region_line(self.cursor)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        base = self.rich_style
        if not self.shown:
            if y == 0:
                text = self.empty_text.copy()
                text.truncate(width, pad=True)
                return Strip(list(text.render(self.app.console)), width).apply_style(base)
            return Strip.blank(width, base)
        if index >= len(self.shown):
            return Strip.blank(width, base)
        row = self.shown[index]
        on_cursor = self.cursor is not None and index == min(self.cursor, len(self.shown) - 1)
        key = (row.id, width, on_cursor)
        strip = self._cache.get(key)
        if strip is None:
            text = render_row(row, width, show_type=width >= 70)
            if on_cursor:
                style = self.get_component_rich_style("event-log--cursor")
                text.stylize(style)
            strip = Strip(text_segments(text), width)  # render_row pads to ``width``
            self._cache[key] = strip
        return strip.apply_style(base) if base != Style() else strip

    # -- cursor -------------------------------------------------------------------------
    def _move_to(self, index: int) -> None:
        """Put the cursor on ``index``; past the last row means follow the tail."""
        if not self.shown or index >= len(self.shown):
            self.cursor = None
            self._changed()
            return
        self.cursor = max(0, index)
        self.scroll_to_region_line(self.cursor)
        self.refresh()

    def scroll_to_region_line(self, index: int) -> None:
        top = self.scroll_offset.y
        height = self.scrollable_content_region.height
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, immediate=True)

    def action_cursor(self, step: int) -> None:
        if not self.shown:
            return
        current = len(self.shown) if self.cursor is None else self.cursor
        if self.cursor is None and step > 0:
            return
        self._move_to(current + step)

    def action_page(self, step: int) -> None:
        if not self.shown:
            return
        height = max(1, self.scrollable_content_region.height - 1)
        current = len(self.shown) - 1 if self.cursor is None else self.cursor
        if self.cursor is None and step > 0:
            return
        self._move_to(max(0, current + step * height))

    def action_first(self) -> None:
        self._move_to(0)

    def action_follow(self) -> None:
        self.cursor = None
        self._changed()

    def select(self) -> None:
        """Post ``Selected`` for the row under the cursor (the last row when following)."""
        row = self.selected
        if row is None and self.shown:
            self.cursor = len(self.shown) - 1
            row = self.shown[-1]
            self.refresh()
        if row is not None:
            self.post_message(self.Selected(row))

    def on_click(self, event: object) -> None:
        y = getattr(event, "y", None)
        if isinstance(y, int):
            index = self.scroll_offset.y + y
            if 0 <= index < len(self.shown):
                self.cursor = index
                self.refresh()
