"""A breakdown table: usage per model, provider, agent, project or tool.

A ``DataTable`` whose cells are ``rich.text.Text`` built with ``tokentop.tui.format.safe``:
model names and project paths come from agent logs and are never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from tokentop.store.usage.read import BreakdownRow
from tokentop.tui import format as fmt

TITLES = {"model": "Model", "provider": "Provider", "agent": "Agent",
          "project": "Project", "tool": "Tool"}


def money(usd: float, unpriced: bool = False) -> str:
    """Dollars for the table: ``—`` when nothing in the row has a price."""
    if unpriced:
        return "—"
    return fmt.usd(round(usd * 1_000_000))


class BreakdownTable(DataTable[Text]):
    """One row per key, busiest first, with tokens, cost, share and messages."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, show_cursor=False)
        self.kind = "model"
        self.rows_shown: list[BreakdownRow] = []
        self._wide = False

    def on_mount(self) -> None:
        self._columns()

    @property
    def wide(self) -> bool:
        """Room for the share and message columns too."""
        return self.content_size.width >= 56

    def _columns(self) -> None:
        self.clear(columns=True)
        self._wide = self.wide
        self.add_column(TITLES[self.kind], key="name")
        self.add_column(Text("Tokens", justify="right"), key="tokens", width=6)
        self.add_column(Text("Cost", justify="right"), key="cost", width=8)
        if self._wide:
            self.add_column(Text("Share", justify="right"), key="share", width=5)
            self.add_column(Text("Calls" if self.kind == "tool" else "Msgs", justify="right"),
                            key="messages", width=6)

    def on_resize(self) -> None:
        if self.wide != getattr(self, "_wide", None) or self.rows_shown:
            self.show(self.kind, self.rows_shown, force=True)

    def show(self, kind: str, rows: Sequence[BreakdownRow], *, force: bool = False) -> None:
        if force or kind != self.kind or not self.columns or self.wide != self._wide:
            self.kind = kind
            self._columns()
        else:
            self.clear()
        self.rows_shown = list(rows)
        # Name column: what the fixed columns (and one cell of padding each side) leave.
        fixed = 6 + 8 + (5 + 6 if self._wide else 0) + 2 * len(self.columns)
        width = max(8, self.content_size.width - fixed - 1)
        for r in rows:
            s = r.sums
            name = fmt.safe(r.key)
            name.truncate(width, overflow="ellipsis")
            unpriced = s.unpriced_tokens > 0 and s.unpriced_tokens == s.tokens
            cells = [
                name,
                Text(fmt.tokens(s.tokens), justify="right"),
                Text(money(s.cost, unpriced), justify="right"),
            ]
            if self._wide:
                cells += [Text(f"{r.share:.0%}", justify="right", style="dim"),
                          Text(fmt.count(s.messages), justify="right", style="dim")]
            self.add_row(*cells)
        if not rows:
            self.add_row(Text("nothing in this window", style="italic dim"),
                         *[Text("") for _ in range(len(self.columns) - 1)])
