"""A KPI card: one big number with its name in the border.

The value arrives already formatted by ``tokentop.tui.format``, so a card never decides how a
number looks. On short terminals the stylesheet drops the border and shows the name
inline (``Input 378k``), giving the charts two more rows.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label


class KpiCard(Horizontal):
    """A bordered card holding one formatted value."""

    def __init__(self, label: str, *, id: str) -> None:
        super().__init__(id=id, classes="kpi")
        self.label = label
        self.border_title = label
        self.value = "–"

    def compose(self) -> ComposeResult:
        yield Label(self.label, classes="kpi-label")
        yield Label(self.value, classes="kpi-value")

    def set_label(self, label: str) -> None:
        """Rename the card: the Overview's cards mean other figures per data source."""
        if label == self.label:
            return
        self.label = label
        self.border_title = label
        if self.is_mounted:
            self.query_one(".kpi-label", Label).update(Text(label))

    def set_value(self, value: str) -> None:
        if value == self.value:
            return
        self.value = value
        self.query_one(".kpi-value", Label).update(Text(value, style="bold"))
