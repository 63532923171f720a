"""The Files screen's table: one row per (server, signal), and how its cells read.

A ``DataTable`` keyed by (server, signal). A rescan that finds the same rows only
rewrites the cells that changed (a growing file, the "last write" age), so a live
inventory of hundreds of rows costs a few cell updates a second, not a rebuilt table;
rows that appear or vanish (a new server, a wipe) rebuild it and keep the cursor on
the row it was on. Server names and paths come from the filesystem: cells are
``rich.text.Text`` with control characters escaped, never markup. gridctl's
``__skills__`` directory (skill usage, not a server) has rows like any server, as in
gridctl's inventory; its name is set in dim italics.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from tokentop.store.gridctl.inventory import InventoryRecord
from tokentop.store.metrics.layout import SKILLS_DIR
from tokentop.tui import format as fmt
from tokentop.tui.widgets.sorting import SortKey, SortState

SIGNAL_WIDTH = 7
SIZE_WIDTH = 9
FILES_WIDTH = 6  # "Files▼": room for the sort arrow
SPAN_WIDTH = 7
WIDE = 100  # at least this many columns: "last write" shows the local time too
# Below this many columns the Span column gives way: at 60 the table was 62 wide and
# "Last write" lost its last cells ("just" for "just now").
COMPACT = 66
SKILLS_SUFFIX = f"/{SKILLS_DIR}"


COLUMNS = ("server", "signal", "size", "files", "span", "last")


def span(seconds: float) -> str:
    """A duration in at most two units: ``45s``, ``12m``, ``3h 05m``, ``4d 12h``."""
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h}h {m:02d}m"
    d, h = divmod(s // 3600, 24)
    return f"{d}d {h}h" if d < 100 else f"{d}d"


def local_time(ts: float, now: float) -> str:
    """``12:29`` today, ``May 03 07:30`` this year (never ``05-03``: day or month?),
    ``2025-12-31`` before (local time)."""
    when = time.localtime(ts)
    today = time.localtime(now)
    if (when.tm_year, when.tm_yday) == (today.tm_year, today.tm_yday):
        return time.strftime("%H:%M", when)
    if when.tm_year == today.tm_year:
        return time.strftime("%b %d %H:%M", when)
    return time.strftime("%Y-%m-%d", when)


def record_span(record: InventoryRecord) -> str:
    """Oldest to newest modification time; one file has no span (its mtime is one point)."""
    if record.file_count < 2:
        return "—"
    return span(record.newest - record.oldest)


def _last_width(wide: bool) -> int:
    return 21 if wide else 11  # "May 03 07:30 · 2d ago", "Last write▼"


def _span_seconds(r: InventoryRecord) -> float | None:
    return None if r.file_count < 2 else r.newest - r.oldest


# ``o`` cycles these, ``O`` reverses; the first is the inventory's own order (gridctl's:
# stack, server, then signal, by name), marked on the Server column.
SORT_KEYS: tuple[SortKey[InventoryRecord], ...] = (
    SortKey("server", "path", descending=False),
    SortKey("size", "size", lambda r: r.size_bytes),
    SortKey("files", "files", lambda r: r.file_count),
    SortKey("span", "span", _span_seconds),
    SortKey("last", "last write", lambda r: r.newest),
)


def _right(value: str, width: int, style: str = "") -> Text:
    """Right-aligned by padding: a cell's own ``justify`` is not applied by DataTable."""
    return Text(value.rjust(width), style=style, no_wrap=True, overflow="ellipsis")


def key_of(record: InventoryRecord) -> str:
    # NUL cannot occur in a file name: the key is unambiguous.
    return f"{record.server}\x00{record.signal}"


class FilesTable(DataTable[Text]):
    """The inventory, one row per (server, signal), in inventory order."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.records: list[InventoryRecord] = []  # as shown (sorted)
        self._given: list[InventoryRecord] = []  # as the inventory lists them
        self.sort: SortState[InventoryRecord] = SortState(SORT_KEYS)
        self._cells: dict[str, tuple[str, ...]] = {}  # each row as shown, as strings
        self._layout: tuple[int, bool, bool] | None = None  # (server width, wide, compact)
        self._now = 0.0  # the clock of the last ``show``: a resize redraws with it

    def on_mount(self) -> None:
        self._columns()

    def sort_next(self) -> None:
        """``o``: the next column (tui/widgets/sorting.py); the cursor keeps its row."""
        self.sort.cycle()
        self._resort()

    def sort_reverse(self) -> None:
        self.sort.reverse()
        self._resort()

    def _resort(self) -> None:
        self._columns()
        self._rebuild(self.sort.apply(self._given), self._now)

    def on_resize(self) -> None:
        if self._layout != self._sizes():
            self._rebuild(self.records, self._now)

    def _sizes(self, records: Sequence[InventoryRecord] | None = None
               ) -> tuple[int, bool, bool]:
        """(server column width, wide, compact): names as long as the longest, within
        the room; ``compact`` leaves the Span column out."""
        wide = self.size.width >= WIDE
        compact = 0 < self.size.width < COMPACT
        fixed = SIGNAL_WIDTH + SIZE_WIDTH + FILES_WIDTH + _last_width(wide) + 2 * 5
        if not compact:
            fixed += SPAN_WIDTH + 2
        records = self.records if records is None else records
        longest = max((len(fmt.clean(r.server)) for r in records), default=0)
        return max(10, min(self.size.width - fixed - 2, max(longest, 16))), wide, compact

    def _shown_columns(self) -> tuple[str, ...]:
        compact = self._layout is not None and self._layout[2]
        return tuple(c for c in COLUMNS if not (compact and c == "span"))

    def _columns(self) -> None:
        width, wide, compact = self._layout = self._sizes()
        self.clear(columns=True)
        self._cells = {}
        mark = self.sort.header
        self.add_column(mark("Server", "server"), key="server", width=width)
        self.add_column("Signal", key="signal", width=SIGNAL_WIDTH)
        for label, key, cells in (("Size", "size", SIZE_WIDTH),
                                  ("Files", "files", FILES_WIDTH),
                                  ("Span", "span", SPAN_WIDTH),
                                  ("Last write", "last", _last_width(wide))):
            if compact and key == "span":
                continue
            header = mark(label, key)
            self.add_column(_right("", cells - header.cell_len) + header, key=key,
                            width=cells)

    def _strings(self, r: InventoryRecord, now: float) -> tuple[str, ...]:
        """A row as plain strings: cheap to compare, so unchanged rows cost no ``Text``."""
        assert self._layout is not None
        wide = self._layout[1]
        newest = min(r.newest, now)  # ahead of the clock (skew, an injected clock): now
        age = now - newest
        ago = fmt.ago(age)
        return (
            r.server,
            r.signal,
            fmt.nbytes(r.size_bytes),
            fmt.count(r.file_count),
            record_span(r),
            f"{local_time(newest, now)} · {ago}" if wide else ago,
            "dim" if age > 86400 else "",
        )

    def _cells_of(self, strings: tuple[str, ...]) -> tuple[Text, ...]:
        assert self._layout is not None
        width, wide, compact = self._layout
        server = fmt.safe(strings[0])
        if strings[0].endswith(SKILLS_SUFFIX):  # skill usage: files, not a server
            server.stylize("italic dim")
        server.truncate(width, overflow="ellipsis")
        cells = (
            server,
            Text(strings[1]),
            _right(strings[2], SIZE_WIDTH),
            _right(strings[3], FILES_WIDTH),
            _right(strings[4], SPAN_WIDTH),
            _right(strings[5], _last_width(wide), strings[6]),
        )
        return cells[:4] + cells[5:] if compact else cells

    @property
    def selected(self) -> InventoryRecord | None:
        """The record under the cursor (None: an empty table)."""
        if not self.records or not 0 <= self.cursor_row < len(self.records):
            return None
        return self.records[self.cursor_row]

    def show(self, records: Sequence[InventoryRecord], now: float) -> None:
        """Show ``records``: cell updates when the rows are the same, else a rebuild."""
        self._now = now
        self._given = list(records)
        records = self.sort.apply(self._given)
        if self._layout is None:
            self._columns()
        keys = [key_of(r) for r in records]
        old_keys = [key_of(r) for r in self.records]
        if keys[: len(old_keys)] != old_keys or self._sizes(records) != self._layout:
            self._rebuild(records, now)
            return
        # The same rows, perhaps with more after them (the rest of a first scan).
        shown = len(old_keys)
        self.records = records
        for r, key in zip(records[shown:], keys[shown:], strict=True):
            self._cells[key] = strings = self._strings(r, now)
            self.add_row(*self._cells_of(strings), key=key)
        columns = self._shown_columns()
        at = {c: COLUMNS.index(c) for c in columns}  # a column's place in the strings
        for r, key in zip(records[:shown], keys[:shown], strict=True):
            strings = self._strings(r, now)
            old = self._cells.get(key)
            if old == strings:
                continue
            cells = self._cells_of(strings)
            for shown_at, column in enumerate(columns):
                i = at[column]
                if old is None or old[i] != strings[i] or (i == 5 and old[6] != strings[6]):
                    self.update_cell(key, column, cells[shown_at])
            self._cells[key] = strings

    def _rebuild(self, records: list[InventoryRecord], now: float) -> None:
        current = self.selected
        index = self.cursor_row
        self.records = records
        if self._sizes() != self._layout:
            self._columns()
        self.clear()
        self._cells = {key_of(r): self._strings(r, now) for r in records}
        for key, strings in self._cells.items():
            self.add_row(*self._cells_of(strings), key=key)
        if not records:
            return
        keys = [key_of(r) for r in records]
        if current is not None and key_of(current) in keys:
            index = keys.index(key_of(current))
        self.move_cursor(row=min(max(index, 0), len(records) - 1), animate=False)
