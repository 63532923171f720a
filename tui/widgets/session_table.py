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
from tokentop.tui.widgets.sorting import SortKey, SortState


def _cost(r: SessionRow) -> float | None:
    unpriced = r.sums.unpriced_tokens > 0 and r.sums.unpriced_tokens == r.sums.tokens
    return None if unpriced else r.sums.cost


# ``o`` cycles these, ``O`` reverses; the first is the order rows arrive in (latest first).
SORT_KEYS: tuple[SortKey[SessionRow], ...] = (
    SortKey("last", "last activity"),
    SortKey("name", "session", lambda r: fmt.clean(r.session_id).casefold(),
            descending=False),
    SortKey("tokens", "tokens", lambda r: r.sums.tokens),
    SortKey("cost", "cost", _cost),
    SortKey("messages", "messages", lambda r: r.sums.messages),
    SortKey("project", "project", lambda r: fmt.clean(r.project).casefold(),
            descending=False),
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
        self._given: list[SessionRow] | None = []  # as handed in, before the sort
        self.sort: SortState[SessionRow] = SortState(SORT_KEYS)
        self.now: datetime | None = None  # the read's "now" (None: the newest row's)
        self.loading_text = "reading sessions…"

    def on_mount(self) -> None:
        self._columns()

    @property
    def selected(self) -> SessionRow | None:
        """The session under the cursor (None: none shown)."""
        if 0 <= self.cursor_row < len(self.rows_shown):
            return self.rows_shown[self.cursor_row]
        return None

    def sort_next(self) -> None:
        """``o``: the next column shown at this width (tui/widgets/sorting.py)."""
        self.sort.cycle({str(k.value) for k in self.columns})
        self.show(self._given)

    def sort_reverse(self) -> None:
        self.sort.reverse()
        self.show(self._given)

    def _add(self, label: str | Text, key: str, width: int | None = None) -> None:
        """A column; the sort key's header carries the arrow (a cell wider for it)."""
        label = self.sort.header(label, key)
        self.add_column(label, key=key, width=None if width is None else
                        max(width, label.cell_len))

    def _columns(self) -> None:
        """Session, last activity and cost always; tokens, messages and the project
        as the width allows (the session's own screen shows them all)."""
        width = self.content_size.width
        self.clear(columns=True)
        self._add("Session", "name")
        self._add(Text("Last", justify="right"), "last", LAST_W)
        if width >= 48:
            self._add(Text("Tokens", justify="right"), "tokens", TOKENS_W)
        self._add(Text("Cost", justify="right"), "cost", COST_W)
        if width >= 60:
            self._add(Text("Msgs", justify="right"), "messages", COUNT_W)
        if width >= 84:
            self._add("Project", "project", PROJECT_W)

    def on_resize(self) -> None:
        self.show(self._given)

    def show(self, rows: Sequence[SessionRow] | None) -> None:
        """``None``: still reading."""
        # The cursor follows its session, not its row: "latest first" reorders the
        # list whenever another session speaks.
        cursor = self.cursor_row
        picked = (self.rows_shown[cursor].session_id
                  if 0 <= cursor < len(self.rows_shown) else None)
        self._columns()
        self._given = None if rows is None else list(rows)
        if rows is None:
            self.add_row(Text(self.loading_text, style="italic dim"),
                         *[Text("") for _ in range(len(self.columns) - 1)])
            return
        rows = self.sort.apply(rows)
        self.rows_shown = rows
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
