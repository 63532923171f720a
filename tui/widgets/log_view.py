"""A virtualised, bounded list of records with a cursor (the Logs and Spans screens).

Ten thousand log records as widgets (or ``DataTable`` rows, rebuilt on every filter
change) would stall the event loop; this keeps the records the screen gives it in a
list and renders only the lines on screen through the line API, caching each rendered
line by (record, width, cursor). A batch of new records costs a list extend and one
refresh.

It follows the tail until the cursor moves up; ``end`` follows again. While frozen
(the app is paused) ``add`` only counts: the screen keeps the records and hands the
whole list over again when unfrozen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Protocol

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip


class Record(Protocol):
    seq: int  # unique, growing with arrival: the render cache key


Render = Callable[[Any, int], Text]


class RecordList(ScrollView, can_focus=True):
    """Records in, a window of lines out; ``enter`` posts ``Selected``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False, id="records.up"),
        Binding("down", "cursor(1)", "Down", show=False, id="records.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="records.page-up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="records.page-down"),
        Binding("home", "first", "First", show=False, id="records.first"),
        Binding("end", "follow", "Follow", id="records.follow"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {"record-list--cursor"}

    DEFAULT_CSS = """
    RecordList {
        overflow-x: hidden;
    }
    RecordList > .record-list--cursor {
        background: $primary 35%;
    }
    """

    class Selected(Message):
        """``enter`` (or a click) chose a record."""

        def __init__(self, record: Any) -> None:
            super().__init__()
            self.record = record

    def __init__(self, render: Render, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.render_record = render
        self.records: list[Any] = []
        self.cursor: int | None = None  # index into ``records``; None: follow the tail
        self.empty_text = Text("waiting for records…", style="italic dim")
        self._cache: LRUCache[tuple[int, int, bool], Strip] = LRUCache(2048)

    # -- records ------------------------------------------------------------------------
    def set_records(self, records: Sequence[Any], *, keep: Any = None) -> None:
        """Show ``records`` (oldest first); the cursor stays on ``keep`` if it is there."""
        self.records = list(records)
        if self.cursor is not None:
            self.cursor = None
            if keep is not None:
                self.cursor = next(
                    (i for i, r in enumerate(self.records) if r is keep), None)
        self._changed()

    def extend(self, records: Sequence[Any], limit: int) -> None:
        """Append new records, dropping the oldest beyond ``limit``."""
        if not records:
            return
        self.records.extend(records)
        over = len(self.records) - limit
        if over > 0:
            del self.records[:over]
            if self.cursor is not None:
                self.cursor = max(0, self.cursor - over)
                self.scroll_to(y=max(0, self.scroll_offset.y - over), animate=False,
                               immediate=True)
        self._changed()

    @property
    def selected(self) -> Any:
        if self.cursor is None or not self.records:
            return None
        return self.records[min(self.cursor, len(self.records) - 1)]

    @property
    def following(self) -> bool:
        return self.cursor is None

    def _changed(self) -> None:
        self.virtual_size = Size(0, len(self.records))
        if self.cursor is None:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
            # The new virtual size applies on the next layout: follow again after it.
            self.call_after_refresh(self._follow_tail)
        self.refresh()

    def _follow_tail(self) -> None:
        if self.cursor is None:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def invalidate(self) -> None:
        """Forget rendered lines (what a record looks like changed, e.g. a highlight)."""
        self._cache.clear()
        self.refresh()

    # -- rendering ----------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def on_resize(self) -> None:
        self.virtual_size = Size(0, len(self.records))
        self.keep_cursor_visible()

    def keep_cursor_visible(self) -> None:
        if self.cursor is None:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        else:
            self._scroll_to_line(self.cursor)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        base = self.rich_style
        if not self.records:
            if y == 0:
                text = self.empty_text.copy()
                text.truncate(width, pad=True)
                return Strip(list(text.render(self.app.console)), width).apply_style(base)
            return Strip.blank(width, base)
        if index >= len(self.records):
            return Strip.blank(width, base)
        record = self.records[index]
        on_cursor = self.cursor is not None and index == min(self.cursor, len(self.records) - 1)
        key = (record.seq, width, on_cursor)
        strip = self._cache.get(key)
        if strip is None:
            text = self.render_record(record, width)
            text.no_wrap = True
            text.overflow = "ellipsis"
            text.truncate(width, overflow="ellipsis")
            if on_cursor:
                # Under the row's own styles: a badge keeps its colour on the cursor row.
                text.stylize_before(self.get_component_rich_style("record-list--cursor"))
            segments = [Segment(s.text, s.style) for s in text.render(self.app.console)
                        if s.text != "\n"]
            strip = Strip(segments).crop_extend(0, width, None)
            self._cache[key] = strip
        return strip.apply_style(base) if base != Style() else strip

    # -- cursor -------------------------------------------------------------------------
    def _move_to(self, index: int) -> None:
        if not self.records or index >= len(self.records):
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
        if not self.records:
            return
        if self.cursor is None:
            if step > 0:
                return
            self._move_to(len(self.records) + step)
            return
        self._move_to(self.cursor + step)

    def action_page(self, step: int) -> None:
        if not self.records:
            return
        height = max(1, self.scrollable_content_region.height - 1)
        if self.cursor is None and step > 0:
            return
        current = len(self.records) - 1 if self.cursor is None else self.cursor
        self._move_to(max(0, current + step * height))

    def action_first(self) -> None:
        self._move_to(0)

    def action_follow(self) -> None:
        self.cursor = None
        self._changed()

    def select(self) -> None:
        """Post ``Selected`` for the record under the cursor (the last one when following)."""
        record = self.selected
        if record is None and self.records:
            self.cursor = len(self.records) - 1
            record = self.records[-1]
            self.refresh()
        if record is not None:
            self.post_message(self.Selected(record))

    def on_click(self, event: Any) -> None:
        y = getattr(event, "y", None)
        if isinstance(y, int):
            index = self.scroll_offset.y + y
            if 0 <= index < len(self.records):
                if self.cursor == index and getattr(event, "chain", 1) >= 2:
                    self.select()
                self.cursor = index
                self.refresh()
