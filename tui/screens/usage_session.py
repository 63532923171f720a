"""One session's drill-down, over the Usage screen: its models and its messages.

Opened with ``enter`` on a row of the Usage screen's session view; ``esc`` closes.
The detail is read once, in a thread, from a read-only connection of its own
(``store.usage.sessions.session_detail``, bounded by the window), so a large store
never blocks the interface.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label

from tokentop.store.usage.sessions import SessionDetail, SessionRow
from tokentop.tui import format as fmt
from tokentop.tui.widgets.breakdown import COST_W, TOKENS_W, BreakdownTable, fit_names, money
from tokentop.tui.widgets.session_table import WHEN_W, when


def load_detail(path: Path, session_id: str, window: str, now: object) -> SessionDetail:
    """The session's detail through a short-lived read-only connection."""
    from datetime import datetime

    from tokentop.store.usage.db import UsageStore
    from tokentop.store.usage.sessions import session_detail

    assert isinstance(now, datetime)
    with UsageStore.open(path, read_only=True) as store:
        return session_detail(store.conn, session_id, window, now)


class SessionScreen(ModalScreen[None]):
    """A session's models (busiest first) and messages (newest first)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", id="usage-session.close", key_display="esc"),
    ]

    CSS = """
    SessionScreen { align: center middle; }
    SessionScreen #session-box {
        width: 96%; height: 94%; border: round $primary; background: $surface;
        padding: 0 1;
    }
    SessionScreen #session-head { width: 100%; height: auto; }
    SessionScreen #session-models { height: auto; max-height: 9; border: none; }
    SessionScreen #session-messages { height: 1fr; }
    """

    def __init__(self, row: SessionRow, path: Path, window: str, now: object) -> None:
        super().__init__()
        self.row = row
        self.path = path
        self.window = window
        self.now = now
        self.detail: SessionDetail | None = None
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="session-box"):
            yield Label(id="session-head")
            yield BreakdownTable(id="session-models")
            yield DataTable(id="session-messages", cursor_type="row", zebra_stripes=False)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        box = self.query_one("#session-box")
        box.border_title = Text("Session " + fmt.clean(self.row.session_id))  # no markup
        box.border_subtitle = "esc: back"
        self._head()
        table = self.query_one("#session-messages", DataTable)
        table.add_column("Time", key="at", width=WHEN_W)
        table.add_column("Model", key="model")  # fitted: the numbers stay in view
        table.add_column(Text("Tokens", justify="right"), key="tokens", width=TOKENS_W)
        table.add_column(Text("Cost", justify="right"), key="cost", width=COST_W)
        table.add_row(Text("reading…", style="italic dim"), Text(""), Text(""), Text(""))
        table.focus()
        self.run_worker(self._load, thread=True, name="usage-session", exclusive=True)

    def _head(self) -> None:
        r = self.row
        text = Text()  # wraps between words: a number is never cut
        text.append(fmt.clean(r.project))
        text.append(f" · {fmt.clean(r.agent)} · ", style="dim")
        to = when(r.last)
        if when(r.first)[:6] == to[:6]:  # the same day: its clock time alone
            to = to[7:]
        text.append(f"{when(r.first)} – {to}")
        text.append("  ")
        text.append(fmt.tokens(r.sums.tokens), style="bold")
        text.append(" tokens  ", style="dim")
        text.append(money(r.sums.cost), style="bold")
        text.append(f"  {fmt.count(r.sums.messages)} messages", style="dim")
        if self.detail is not None and len(self.detail.messages) < r.sums.messages:
            text.append(f" (newest {fmt.count(len(self.detail.messages))} listed)",
                        style="dim")
        self.query_one("#session-head", Label).update(text)

    def _load(self) -> None:
        try:
            detail = load_detail(self.path, self.row.session_id, self.window, self.now)
        except Exception as exc:  # a locked or vanished store: said, not raised
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self._loaded, detail)

    def _failed(self, message: str) -> None:
        self.query_one("#session-head", Label).update(
            fmt.safe(f"reading the session failed: {message}", "bold red"))

    def _loaded(self, detail: SessionDetail) -> None:
        self.detail = detail
        self._head()
        self.query_one("#session-models", BreakdownTable).show("model", detail.models)
        self._messages()

    def on_resize(self) -> None:
        if self.detail is not None:
            self.call_after_refresh(self._messages)

    def _messages(self) -> None:
        """The message rows, model names fitted to what the number columns leave."""
        detail = self.detail
        assert detail is not None
        table = self.query_one("#session-messages", DataTable)
        table.clear()
        room = table.content_size.width - (WHEN_W + TOKENS_W + COST_W) - 2 * 4 - 2
        names = fit_names([fmt.clean(m.model) for m in detail.messages], max(8, room))
        for m, name in zip(detail.messages, names, strict=True):
            s = m.sums
            unpriced = s.unpriced_tokens > 0 and s.unpriced_tokens == s.tokens
            table.add_row(Text(when(m.at), style="dim"), Text(name),
                          Text(fmt.tokens(s.tokens), justify="right"),
                          Text(money(s.cost, unpriced), justify="right"))
        if not detail.messages:
            table.add_row(Text("no messages in this window", style="italic dim"),
                          Text(""), Text(""), Text(""))
