"""A bounded list of records with a cursor (the Logs and Spans screens).

A ``VirtualList`` (tui/widgets/virtual_list.py) of the records the screen hands it,
drawn by the screen's own ``render`` function. A batch of new records costs a list
extend and one refresh; a second click on the cursor row opens it as ``enter`` does.

While frozen (the app is paused) the screen stops calling ``extend``: it keeps the
records and hands the whole list over again (``set_records``) when unfrozen.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any, ClassVar, Protocol

from rich.segment import Segment
from rich.text import Text
from textual.binding import BindingType
from textual.message import Message
from textual.strip import Strip

from tokentop.tui.widgets.cells import cut_line
from tokentop.tui.widgets.virtual_list import VirtualList, cursor_bindings


class Record(Protocol):
    seq: int  # unique, growing with arrival: the render cache key


Render = Callable[[Any, int], Text]


class RecordList(VirtualList[Any]):
    """Records in, a window of lines out; ``enter`` posts ``Selected``."""

    BINDINGS: ClassVar[list[BindingType]] = cursor_bindings("records", show_follow=True)

    key_of = attrgetter("seq")
    click_twice_selects = True

    class Selected(Message):
        """``enter`` (or a click) chose a record."""

        def __init__(self, record: Any) -> None:
            super().__init__()
            self.record = record

    def __init__(self, render: Render, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(2048, id=id, classes=classes)
        self.render_record = render
        self.empty_text = Text("waiting for records…", style="italic dim")

    @property
    def records(self) -> list[Any]:
        """The records on the list, oldest first."""
        return self.rows

    # -- records ------------------------------------------------------------------------
    def set_records(self, records: Sequence[Any], *, keep: Any = None,
                    near: Callable[[Any], int] | None = None) -> None:
        """Show ``records`` (oldest first); the cursor stays on ``keep`` if it is there,
        else (with ``near``, the records' order key) on the last record at or before it,
        and at the same height on screen: a filter change never loses the place."""
        was = self.cursor
        line = (was - self.scroll_offset.y) if was is not None else 0
        self.rows = list(records)
        if was is not None:
            self.cursor = None
            if keep is not None:
                self.cursor = next(
                    (i for i, r in enumerate(self.rows) if r is keep), None)
                if self.cursor is None and near is not None and self.rows:
                    at = bisect_right(self.rows, near(keep), key=near)
                    self.cursor = max(0, at - 1)
        self._changed()
        if self.cursor is not None:
            self.call_after_refresh(self._hold_place, max(0, line))

    def _hold_place(self, line: int) -> None:
        """Scroll so the cursor's row is ``line`` rows from the top (as it was)."""
        if self.cursor is not None:
            self.scroll_to(y=max(0, self.cursor - line), animate=False, immediate=True)
            self.keep_cursor_visible()

    def extend(self, records: Sequence[Any], limit: int) -> None:
        """Append new records, dropping the oldest beyond ``limit``."""
        if not records:
            return
        self.rows.extend(records)
        over = len(self.rows) - limit
        if over > 0:
            self._drop_oldest(over)
        self._changed()

    def _changed(self) -> None:
        super()._changed()
        if self.cursor is None:
            # The new virtual size applies on the next layout: follow again after it.
            self.call_after_refresh(self._follow_tail)

    def _follow_tail(self) -> None:
        if self.cursor is None:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    # -- rendering ----------------------------------------------------------------------
    def render_strip(self, row: Any, width: int, on_cursor: bool) -> Strip:
        text = self.render_record(row, width)
        text.no_wrap = True
        text.overflow = "ellipsis"
        cut_line(text, width)
        if on_cursor:
            # Under the row's own styles: a badge keeps its colour on the cursor row.
            text.stylize_before(self.get_component_rich_style("virtual-list--cursor"))
        segments = [Segment(s.text, s.style) for s in text.render(self.app.console)
                    if s.text != "\n"]
        return Strip(segments).crop_extend(0, width, None)
