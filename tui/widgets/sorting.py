"""One sort state for every table: ``o`` picks the next column, ``O`` reverses the order.

Each table (the Overview's servers, Usage's breakdowns and sessions, the Files paths)
names its sortable columns once as :class:`SortKey` values, the first being the order
the rows arrive in today (busiest first, latest first, inventory order), so the
default order is what it always was. ``O`` reverses rather than cycling back: with
three to five columns a step back is seldom quicker than three forward, while the
reverse answers a real question (the cheapest model, the quietest server, the oldest
session) and is what htop's ``I`` does. A new column starts in its natural direction
(numbers largest first, names A to Z).

Rows without a value (an unpriced cost) go last in both directions: reversing a cost
sort shows the cheapest priced rows, not a screen of ``—``. The sort is stable, so rows
that tie keep the arrival order.

The sorted column's header carries ``▼`` (descending) or ``▲`` (ascending); where a
table hides the column at this width, :meth:`SortState.describe` gives the words for a
status line ("sorted by cost ▼").
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from rich.text import Text

Row = TypeVar("Row")

DOWN, UP = "▼", "▲"


@dataclass(frozen=True)
class SortKey(Generic[Row]):
    """A sortable column: its key (whose header is marked), its words, its value.

    ``value`` None: the order the rows came in (the table's default). ``descending``:
    the natural direction (True for numbers and times, False for names).
    """

    column: str
    label: str
    value: Callable[[Row], Any] | None = None
    descending: bool = True


class SortState(Generic[Row]):
    """Which key sorts a table and in which direction."""

    def __init__(self, keys: Sequence[SortKey[Row]]) -> None:
        assert keys, "a sort state needs at least the default key"
        self.keys = tuple(keys)
        self.index = 0
        self.reversed = False

    @property
    def key(self) -> SortKey[Row]:
        return self.keys[self.index]

    @property
    def is_default(self) -> bool:
        return self.index == 0 and not self.reversed

    @property
    def descending(self) -> bool:
        return self.key.descending != self.reversed

    @property
    def arrow(self) -> str:
        return DOWN if self.descending else UP

    def cycle(self, shown: Collection[str] | None = None) -> SortKey[Row]:
        """The next key (of the columns ``shown``, when given), in its natural order."""
        for step in range(1, len(self.keys) + 1):
            i = (self.index + step) % len(self.keys)
            if shown is None or self.keys[i].column in shown or i == 0:
                self.index = i
                break
        self.reversed = False
        return self.key

    def reverse(self) -> None:
        self.reversed = not self.reversed

    def apply(self, rows: Sequence[Row]) -> list[Row]:
        """``rows`` in this order (see the module docstring for ties and missing values)."""
        value = self.key.value
        if value is None:
            return list(reversed(rows)) if self.reversed else list(rows)
        known = [(value(r), r) for r in rows]
        missing = [r for v, r in known if v is None]
        present = [(v, r) for v, r in known if v is not None]
        # ``reverse=True`` keeps ties in input order too (Python's sort is stable).
        present.sort(key=lambda vr: vr[0], reverse=self.descending)
        return [r for _, r in present] + missing

    def marks(self, column: str) -> bool:
        return self.key.column == column

    def header(self, label: str | Text, column: str) -> Text:
        """``label`` with the arrow when ``column`` is the sort key."""
        text = label.copy() if isinstance(label, Text) else Text(label)
        if self.marks(column):
            text.append(self.arrow, style="bold")
        return text

    def describe(self) -> str:
        """Words for a status line: ``sorted by cost ▼``."""
        return f"sorted by {self.key.label} {self.arrow}"

