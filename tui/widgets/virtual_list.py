"""A virtualised list of rows with a cursor: what the Events, Logs and Spans logs share.

Thousands of rows as widgets (or ``DataTable`` rows, rebuilt on every filter change)
would stall the event loop; a ``RichLog`` cannot select a line. This keeps the rows in a
plain list and draws only the lines on screen through the line API, caching each drawn
line by (row key, width, cursor). A batch of new rows costs a list extend and one
refresh, however many arrive.

The list follows the tail until the cursor moves up; ``end`` follows again. Subclasses
say what a row is and how it looks (``key_of``, ``render_strip``), where rows come from,
and what ``Selected`` message ``enter`` posts.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, ClassVar, Generic, TypeVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

Row = TypeVar("Row")


def cursor_bindings(prefix: str, *, show_follow: bool) -> list[BindingType]:
    """The list's keys, with ids under ``prefix`` (the keymap names them so)."""
    return [
        Binding("up", "cursor(-1)", "Up", show=False, id=f"{prefix}.up"),
        Binding("down", "cursor(1)", "Down", show=False, id=f"{prefix}.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id=f"{prefix}.page-up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id=f"{prefix}.page-down"),
        Binding("home", "first", "First", show=False, id=f"{prefix}.first"),
        Binding("end", "follow", "Follow", show=show_follow, id=f"{prefix}.follow"),
    ]


class VirtualList(ScrollView, Generic[Row], can_focus=True):
    """Rows in, a window of lines out; ``enter`` (via ``select``) posts ``Selected``."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"virtual-list--cursor"}

    DEFAULT_CSS = """
    VirtualList {
        overflow-x: hidden;
    }
    VirtualList > .virtual-list--cursor {
        background: $primary 35%;
    }
    """

    key_of: ClassVar[Callable[[Any], Hashable]]
    """A row's stable identity (an ``attrgetter``: no Python call per drawn line)."""
    Selected: ClassVar[Callable[[Any], Message]]
    """The message ``select`` posts; each subclass names its own (its handler name)."""
    click_twice_selects: ClassVar[bool] = False
    """A second click on the cursor row posts ``Selected`` as ``enter`` would."""

    def __init__(self, cache_size: int, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.rows: list[Row] = []
        self.cursor: int | None = None  # index into ``rows``; None: follow the tail
        self.empty_text = Text("")
        self._cache: LRUCache[tuple[Hashable, int, bool], Strip] = LRUCache(cache_size)

    # Each subclass defines it: draw ``row`` as one line ``width`` cells wide (called
    # once per cache miss).
    render_strip: Callable[[Row, int, bool], Strip]

    # -- rows ---------------------------------------------------------------------------
    @property
    def selected(self) -> Row | None:
        if self.cursor is None or not self.rows:
            return None
        return self.rows[min(self.cursor, len(self.rows) - 1)]

    @property
    def following(self) -> bool:
        return self.cursor is None

    def _drop_oldest(self, count: int) -> None:
        """Forget the first ``count`` rows (a bounded list evicting its oldest)."""
        del self.rows[:count]
        if self.cursor is not None:
            # Not following: keep the same rows on screen as the top ones go.
            self.cursor = max(0, self.cursor - count)
            self.scroll_to(y=max(0, self.scroll_offset.y - count), animate=False,
                           immediate=True)

    def _changed(self) -> None:
        self.virtual_size = Size(0, len(self.rows))  # rows fit the width: no x scroll
        if self.cursor is None:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    def invalidate(self) -> None:
        """Forget drawn lines (what a row looks like changed, e.g. a highlight)."""
        self._cache.clear()
        self.refresh()

    # -- rendering ----------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def on_resize(self) -> None:
        self.virtual_size = Size(0, len(self.rows))
        self.keep_cursor_visible()

    def keep_cursor_visible(self) -> None:
        """Scroll so the cursor's row (or the tail, when following) is on screen."""
        if self.cursor is None:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        else:
            self._scroll_to_line(self.cursor)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        base = self.rich_style
        rows = self.rows
        if not rows:
            if y == 0:
                text = self.empty_text.copy()
                text.truncate(width, pad=True)
                return Strip(list(text.render(self.app.console)), width).apply_style(base)
            return Strip.blank(width, base)
        if index >= len(rows):
            return Strip.blank(width, base)
        row = rows[index]
        on_cursor = self.cursor is not None and index == min(self.cursor, len(rows) - 1)
        key = (self.key_of(row), width, on_cursor)
        strip = self._cache.get(key)
        if strip is None:
            strip = self.render_strip(row, width, on_cursor)
            self._cache[key] = strip
        return strip.apply_style(base) if base != Style() else strip

    # -- cursor -------------------------------------------------------------------------
    def _move_to(self, index: int) -> None:
        """Put the cursor on ``index``; past the last row means follow the tail."""
        if not self.rows or index >= len(self.rows):
            self.cursor = None
            self._changed()
            return
        self.cursor = max(0, index)
        self._scroll_to_line(self.cursor)
        self.refresh()

    def _scroll_to_line(self, index: int) -> None:
        top = self.scroll_offset.y
        height = self.scrollable_content_region.height
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, immediate=True)

    def action_cursor(self, step: int) -> None:
        if not self.rows or (self.cursor is None and step > 0):
            return
        current = len(self.rows) if self.cursor is None else self.cursor
        self._move_to(current + step)

    def action_page(self, step: int) -> None:
        if not self.rows or (self.cursor is None and step > 0):
            return
        height = max(1, self.scrollable_content_region.height - 1)
        current = len(self.rows) - 1 if self.cursor is None else self.cursor
        self._move_to(max(0, current + step * height))

    def action_first(self) -> None:
        self._move_to(0)

    class Followed(Message):
        """``end``: the user asked to follow the tail (a paused screen unpauses: a frozen
        list cannot follow anything)."""

    def action_follow(self) -> None:
        self.cursor = None
        self._changed()
        self.post_message(self.Followed())

    def select(self) -> None:
        """Post ``Selected`` for the row under the cursor (the last row when following)."""
        row = self.selected
        if row is None and self.rows:
            self.cursor = len(self.rows) - 1
            row = self.rows[-1]
            self.refresh()
        if row is not None:
            self.post_message(self.Selected(row))

    def on_click(self, event: Any) -> None:
        y = getattr(event, "y", None)
        if isinstance(y, int):
            index = self.scroll_offset.y + y
            if 0 <= index < len(self.rows):
                if (self.click_twice_selects and self.cursor == index
                        and getattr(event, "chain", 1) >= 2):
                    self.select()
                self.cursor = index
                self.refresh()
