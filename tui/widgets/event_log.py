"""A bounded log of browser events with a cursor (the Events screen).

A ``VirtualList`` (tui/widgets/virtual_list.py) of event and marker rows: it keeps the
last ``BACKLOG`` rows (a deque) and shows the ones the current filter lets through (the
list's rows, trimmed as the backlog evicts). A thousand new rows cost a list extend and
one refresh, however many arrive.

While ``frozen`` (paused) new rows go to the backlog only: the display stays still, and
unfreezing shows everything that arrived meanwhile (up to the backlog's size).
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import ClassVar

from rich.text import Text
from textual.binding import BindingType
from textual.message import Message
from textual.strip import Strip

from tokentop.tui.widgets.event_text import LogRow, render_row, text_segments
from tokentop.tui.widgets.virtual_list import VirtualList, cursor_bindings

BACKLOG = 5000

RowFilter = Callable[[LogRow], bool]


class EventLog(VirtualList[LogRow]):
    """The Events screen's log: rows in, a window of lines out."""

    BINDINGS: ClassVar[list[BindingType]] = cursor_bindings("events", show_follow=False)

    key_of = attrgetter("id")

    class Selected(Message):
        """``enter`` on a row (the screen opens the detail pane for it)."""

        def __init__(self, row: LogRow) -> None:
            super().__init__()
            self.row = row

    def __init__(self, backlog: int = BACKLOG, *, id: str | None = None) -> None:
        # Lines on screen and a little scroll-back: each Strip carries several caches
        # of its own, and thousands of them make every garbage collection slower.
        super().__init__(256, id=id)
        self.backlog: deque[LogRow] = deque(maxlen=backlog)
        self.frozen = False
        self.frozen_upto = -1  # while frozen: the last row id there was at the freeze
        self.empty_text = Text("waiting for events…", style="italic dim")
        self._filter: RowFilter = lambda _row: True

    @property
    def shown(self) -> list[LogRow]:
        """The rows the filter lets through, oldest first (what is on the list)."""
        return self.rows

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
        self.rows.extend(row for row in rows if keep(row))
        self._trim()
        self._changed()

    def set_filter(self, keep: RowFilter) -> None:
        """Show only the rows ``keep`` accepts (markers too, if it says so)."""
        self._filter = keep
        self._rebuild()

    def freeze(self, frozen: bool) -> None:
        """Hold the display still (paused): rows that arrive meanwhile wait in the
        backlog, and a new filter picks only from the rows there were at the freeze."""
        self.frozen = frozen
        self.frozen_upto = self.backlog[-1].id if frozen and self.backlog else -1
        if not frozen:
            self._rebuild()

    def clear(self) -> None:
        self.backlog.clear()
        self.rows.clear()
        self.cursor = None
        self._changed()

    def _rebuild(self) -> None:
        picked = self.selected
        keep = self._filter
        if self.frozen:
            upto = self.frozen_upto
            self.rows = [row for row in self.backlog if row.id <= upto and keep(row)]
        else:
            self.rows = [row for row in self.backlog if keep(row)]
        if picked is not None:
            ids = [row.id for row in self.rows]
            i = bisect.bisect_left(ids, picked.id)
            self.cursor = min(i, len(self.rows) - 1) if self.rows else None
        self._changed()

    def _trim(self) -> None:
        """Drop visible rows the backlog evicted (ids grow, so it is a prefix)."""
        shown = self.rows
        if not self.backlog or not shown:
            return
        oldest = self.backlog[0].id
        if shown[0].id >= oldest:
            return
        lo, hi = 0, len(shown)
        while lo < hi:
            mid = (lo + hi) // 2
            if shown[mid].id < oldest:
                lo = mid + 1
            else:
                hi = mid
        self._drop_oldest(lo)

    # -- rendering ----------------------------------------------------------------------
    def render_strip(self, row: LogRow, width: int, on_cursor: bool) -> Strip:
        text = render_row(row, width, show_type=width >= 70)
        if on_cursor:
            text.stylize(self.get_component_rich_style("virtual-list--cursor"))
        return Strip(text_segments(text), width)  # render_row pads to ``width``
