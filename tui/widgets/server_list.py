"""The server list: one row per ``stack/server`` with a sparkline and its numbers.

Rows are options of an ``OptionList`` (keyboard and mouse selection for free) whose
prompts are single ``Text`` lines laid out in columns for the list's current width:
at 80 columns a row is name, sparkline and tokens in range; wider, the cumulative
totals appear too. Server names come from directory names, so they are always
``Text`` built through ``tokentop.tui.format.safe``, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.events import Resize
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tokentop.tui import format as fmt
from tokentop.tui.widgets.kpi import shorter_numbers
from tokentop.tui.widgets.palette import Palette, palette
from tokentop.tui.widgets.sorting import SortKey, SortState
from tokentop.tui.widgets.sparkline import spark_text

MARKER = 2


@dataclass(frozen=True)
class ServerRow:
    """What one row shows; ``activity`` is one value per bucket of the range."""

    name: str
    activity: Sequence[int]
    range_tokens: int
    total_tokens: int
    total_cost_micro: int | None
    # gridctl restarted (or cleared its cost) within the range: the cumulative total
    # started again from zero there, so it can be smaller than the range's sum. Marked
    # ``↺`` rather than left to read as a contradiction (issue 17).
    reset_in_range: bool = False
    cost_reset_in_range: bool = False


@dataclass(frozen=True)
class Columns:
    """Widths of a row's columns (0 = hidden) for one list width."""

    name: int
    spark: int
    range: int
    total: int
    cost: int

    @classmethod
    def fit(cls, width: int, longest_name: int) -> Columns:
        """Give every column that fits its space, most useful first, the rest to names."""
        free = width - MARKER
        widths = {"range": 7, "name": 12, "spark": 9, "total": 7, "cost": 9}
        shown = {}
        for key, w in widths.items():
            if key in ("range", "name") or free >= w:
                shown[key] = min(w, max(free, 1)) if key == "name" else w
                free -= shown[key]
        # What is left: longer names up to the longest, then a wider sparkline.
        grow = max(0, min(free, min(longest_name, 32) - shown["name"]))
        shown["name"] += grow
        free -= grow
        if "spark" in shown:
            more = max(0, min(free, 16))
            shown["spark"] += more
            free -= more
        shown["name"] += max(0, free)
        return cls(
            name=shown["name"],
            spark=shown.get("spark", 1) - 1,  # one of its cells is the gap before it
            range=shown["range"],
            total=shown.get("total", 0),
            cost=shown.get("cost", 0),
        )


RESET_MARK = "↺"
# ``o`` cycles these, ``O`` reverses (tui/widgets/sorting.py). The first is the order
# the Overview hands the rows in: most tokens in the range first.
SORT_KEYS: tuple[SortKey[ServerRow], ...] = (
    SortKey("range", "range tokens"),
    SortKey("name", "name", lambda r: fmt.clean(r.name).casefold(), descending=False),
    SortKey("total", "total tokens", lambda r: r.total_tokens),
    SortKey("cost", "cost", lambda r: r.total_cost_micro),
)
RESET_NOTE = f"{RESET_MARK} restarted in range: total since"


def _cell(text: str, width: int, style: str = "") -> Text:
    """A right-aligned figure, shortened (``1.9k``) rather than cut when it is too wide."""
    if not width:
        return Text("", style=style)
    if len(text) >= width:  # keep a space before it, from the column to its left
        text = next((t for t in shorter_numbers(text) if len(t) < width), text)
        if len(text) > width:
            text = "…"
    return Text(text.rjust(width), style=style)


class ServerList(Vertical):
    """Header, optional filter box, and the selectable rows."""

    class Picked(Message):
        """The user chose a row (enter or click)."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.border_title = "Servers"
        self.rows: list[ServerRow] = []
        self.selected: str | None = None
        self.range_label = "30m"
        self.empty_note = ""
        self.sort: SortState[ServerRow] = SortState(SORT_KEYS)
        self._given: list[ServerRow] = []  # the rows in the order they were handed in
        self._ids: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static(id="server-header")
        yield Input(placeholder="filter servers (enter: done, esc: clear)", id="server-filter")
        yield OptionList(id="server-options")

    @property
    def options(self) -> OptionList:
        return self.query_one("#server-options", OptionList)

    def show(self, rows: list[ServerRow], selected: str | None, range_label: str,
             empty_note: str = "") -> None:
        """Replace the rows (prompts in place when the order did not change)."""
        self._given = list(rows)
        self.rows = self.sort.apply(rows)
        self.selected = selected
        self.range_label = range_label
        self.empty_note = empty_note
        self._render_rows()

    @property
    def current(self) -> str | None:
        """The server under the cursor (``y`` copies it), else the one picked."""
        at = self.options.highlighted if self.is_mounted else None
        if at is not None and 0 <= at < len(self._ids):
            return self._ids[at]
        return self.selected

    def sort_next(self) -> None:
        """``o``: the next column shown at this width, in its natural direction."""
        cols = self._columns()
        shown = {"range", "name"} | {k for k in ("total", "cost") if getattr(cols, k)}
        self.sort.cycle(shown)
        self._resort()

    def sort_reverse(self) -> None:
        """``O``: the same column, the other way round."""
        self.sort.reverse()
        self._resort()

    def _resort(self) -> None:
        """Re-order the rows; the cursor stays on the server it was on."""
        options = self.options
        at = options.highlighted
        keep = self._ids[at] if at is not None and 0 <= at < len(self._ids) else None
        self.rows = self.sort.apply(self._given)
        self._render_rows()
        if keep in self._ids:
            options.highlighted = self._ids.index(keep)

    def _reset_note(self, cols: Columns) -> str:
        """The legend of the ``↺`` mark, when a shown total carries it; the sort key
        in words when its column is hidden at this width."""
        if not getattr(cols, self.sort.key.column, 1):
            return self.sort.describe()
        marked = any((r.reset_in_range and cols.total)
                     or (r.cost_reset_in_range and cols.cost and r.total_cost_micro is not None)
                     for r in self.rows)
        return RESET_NOTE if marked else ""

    def on_resize(self, _: Resize) -> None:
        self._render_rows()

    def _columns(self) -> Columns:
        options = self.options
        width = options.scrollable_content_region.width or max(20, self.size.width - 4)
        longest = max((len(fmt.clean(r.name)) for r in self.rows), default=10)
        return Columns.fit(width, longest)

    def _header(self, cols: Columns) -> Text:
        text = Text(" " * MARKER, no_wrap=True, style="bold")
        name = self.sort.header("server", "name").plain
        text.append(name.ljust(cols.name)[: cols.name])
        if cols.spark:
            text.append(" " + "activity".ljust(cols.spark)[: cols.spark])
        text.append(_cell(self._label(self.range_label, "range", cols.range), cols.range))
        if cols.total:
            text.append(_cell(self._label("total", "total", cols.total), cols.total))
        if cols.cost:
            text.append(_cell(self._label("cost", "cost", cols.cost), cols.cost))
        return text

    def _label(self, label: str, column: str, width: int) -> str:
        """A header with the sort arrow, kept whole: the label is cut, not the arrow."""
        if not self.sort.marks(column):
            return label
        return label[: max(1, width - 2)] + self.sort.arrow

    def _row(self, row: ServerRow, cols: Columns, colors: Palette) -> Text:
        chosen = row.name == self.selected
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("▶ " if chosen else "  ", style=f"bold {colors.accent}" if chosen else "")
        name = fmt.clean(row.name)
        if len(name) > cols.name:
            name = name[: max(1, cols.name - 1)] + "…"
        text.append(name.ljust(cols.name), style="bold" if chosen else "")
        if cols.spark:
            text.append(" ")
            text.append(spark_text(row.activity, cols.spark, colors.input, colors.idle))
        text.append(_cell(fmt.tokens(row.range_tokens), cols.range))
        if cols.total:
            mark = RESET_MARK if row.reset_in_range else ""
            text.append(_cell(mark + fmt.tokens(row.total_tokens), cols.total, "dim"))
        if cols.cost:
            cost = fmt.usd(row.total_cost_micro)
            mark = RESET_MARK if row.cost_reset_in_range and row.total_cost_micro is not None \
                else ""
            text.append(_cell(mark + cost, cols.cost, "dim"))
        return text

    def _render_rows(self) -> None:
        if not self.is_mounted:
            return
        cols = self._columns()
        self.border_subtitle = self._reset_note(cols)
        self.query_one("#server-header", Static).update(self._header(cols))
        options = self.options
        ids = [r.name for r in self.rows]
        colors = palette(self.app)
        prompts = [self._row(r, cols, colors) for r in self.rows]
        if ids and ids == self._ids:
            for i, prompt in enumerate(prompts):
                options.replace_option_prompt_at_index(i, prompt)
            return
        self._ids = ids
        position = options.highlighted
        with self.app.batch_update():
            options.clear_options()
            if rows_or_note := [Option(p, id=n) for p, n in zip(prompts, ids, strict=True)]:
                options.add_options(rows_or_note)
            elif self.empty_note:
                options.add_option(Option(fmt.safe(self.empty_note, "italic"), disabled=True))
            if ids:
                options.highlighted = self._cursor_after_rebuild(ids, position)

    def _cursor_after_rebuild(self, ids: list[str], position: int | None) -> int:
        """Where the cursor goes when rows were reordered, filtered or added.

        On the selected server if it is listed; otherwise at the same position, like
        ``top``: rows reorder as history streams in, and a cursor that chased a name
        would wander with them.
        """
        if self.selected in ids:
            return ids.index(self.selected)
        return min(position or 0, len(ids) - 1)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Picked(event.option.id))
