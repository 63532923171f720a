"""The Usage screen's sessions: one row per session, newest activity first.

Cells are ``rich.text.Text`` (project paths and model names come from agent logs and
never reach markup). ``enter`` on a row opens the session's messages and models
(``tui/screens/usage_session.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text
from textual.widgets import DataTable

from tokentop.store.usage.sessions import SessionRow
from tokentop.tui import format as fmt
from tokentop.tui.widgets.breakdown import (
    COST_W,
    COUNT_W,
    MIN_NAME,
    TOKENS_W,
    fit_names,
    money,
)

WHEN_W = 12  # "Dec 05 12:30": a month name, never "12-05" (12 May or Dec 5?)
LAST_W = 6  # "12:30" today, "Dec 05" before
PROJECT_W = 16


def when(dt: datetime) -> str:
    """A local time with a month name, never ``12-05`` (read as 12 May or Dec 5)."""
    return dt.astimezone().strftime("%b %d %H:%M")


def last(dt: datetime, now: datetime) -> str:
    """Within the last day the clock time, else the day: always whole in 6 cells."""
    local = dt.astimezone()
    if (now - dt).total_seconds() < 86400:
        return local.strftime("%H:%M")
    return local.strftime("%b %d")


class SessionTable(DataTable[Text]):
    """Sessions with their project, last activity, tokens, cost and messages."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.rows_shown: list[SessionRow] = []
        self.now: datetime | None = None  # the read's "now" (None: the newest row's)
        self.loading_text = "reading sessions…"

    def on_mount(self) -> None:
        self._columns()

    def _columns(self) -> None:
        """Session, last activity and cost always; tokens, messages and the project
        as the width allows (the session's own screen shows them all)."""
        width = self.content_size.width
        self.clear(columns=True)
        self.add_column("Session", key="name")
        self.add_column(Text("Last", justify="right"), key="last", width=LAST_W)
        if width >= 48:
            self.add_column(Text("Tokens", justify="right"), key="tokens", width=TOKENS_W)
        self.add_column(Text("Cost", justify="right"), key="cost", width=COST_W)
        if width >= 60:
            self.add_column(Text("Msgs", justify="right"), key="messages", width=COUNT_W)
        if width >= 84:
            self.add_column("Project", key="project", width=PROJECT_W)

    def on_resize(self) -> None:
        self.show(self.rows_shown)

    def show(self, rows: Sequence[SessionRow] | None) -> None:
        """``None``: still reading."""
        # The cursor follows its session, not its row: "latest first" reorders the
        # list whenever another session speaks.
        cursor = self.cursor_row
        picked = (self.rows_shown[cursor].session_id
                  if 0 <= cursor < len(self.rows_shown) else None)
        self._columns()
        if rows is None:
            self.add_row(Text(self.loading_text, style="italic dim"),
                         *[Text("") for _ in range(len(self.columns) - 1)])
            return
        self.rows_shown = list(rows)
        fixed = sum(c.width for c in list(self.columns.values())[1:]) + 2 * len(self.columns)
        width = max(MIN_NAME, self.content_size.width - fixed - 1)
        keys = [str(k.value) for k in self.columns]
        now = max((r.last for r in rows), default=None)
        names = fit_names([fmt.clean(r.session_id) for r in rows], width)
        projects = fit_names([fmt.clean(r.project) for r in rows], PROJECT_W)
        for r, name, project in zip(rows, names, projects, strict=True):
            s = r.sums
            unpriced = s.unpriced_tokens > 0 and s.unpriced_tokens == s.tokens
            cell = {"name": Text(name),
                    "last": Text(last(r.last, self.now or now or r.last), justify="right",
                                 style="dim"),
                    "tokens": Text(fmt.tokens(s.tokens), justify="right"),
                    "cost": Text(money(s.cost, unpriced), justify="right"),
                    "messages": Text(fmt.count(s.messages), justify="right", style="dim"),
                    "project": Text(project, style="dim")}
            self.add_row(*(cell[k] for k in keys))
        if not rows:
            self.add_row(Text("no sessions in this window", style="italic dim"),
                         *[Text("") for _ in range(len(self.columns) - 1)])
        else:
            ids = [r.session_id for r in rows]
            self.move_cursor(row=ids.index(picked) if picked in ids else
                             min(max(cursor, 0), len(rows) - 1))
