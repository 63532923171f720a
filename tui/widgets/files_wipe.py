"""The wipe confirmation: exactly what will be deleted, and a deliberate "yes".

Deleting telemetry cannot be undone, so the modal lists the servers, the signals,
every file (relative to the telemetry root, with its size), the bytes and the time
span, and asks the user to type ``wipe``: a stray ``y`` or ``enter`` deletes nothing.
Escape or Cancel dismisses with ``False``. The files listed are the plan's files, and
the plan's files are what ``tokentop.store.gridctl.wipe.execute`` deletes: nothing else.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from tokentop.store.gridctl.wipe import WipePlan
from tokentop.tui import format as fmt
from tokentop.tui.widgets.files_table import span

CONFIRM_WORD = "wipe"


def _stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M")


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _names(items: list[str], limit: int = 6) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", … (+{len(items) - limit})" if len(items) > limit else "")


def summary(plan: WipePlan) -> Table:
    """What goes, in a two-column grid: servers, signals, files and bytes, span."""
    t = plan.totals
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_row(f"server{'s' if t.servers != 1 else ''}",
                 fmt.safe(_names(plan.servers)))
    grid.add_row(f"signal{'s' if len(plan.signals) != 1 else ''}",
                 Text(", ".join(plan.signals)))
    grid.add_row("files", Text(f"{fmt.count(t.files)} · {fmt.nbytes(t.size_bytes)}"))
    if t.oldest is not None and t.newest is not None:
        grid.add_row("written", Text(f"{_stamp(t.oldest)} → {_stamp(t.newest)} "
                                     f"({span(t.newest - t.oldest)})"))
    return grid


def file_list(plan: WipePlan) -> Text:
    """One line per file: its size and its path under the root (plain text)."""
    root = plan.layout.path
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, path_info in enumerate(f for r in plan.records for f in r.files):
        if i:
            text.append("\n")
        text.append(f"{fmt.nbytes(path_info.size):>9}  ", style="dim")
        text.append(fmt.clean(_relative(path_info.path, root)))
    for refused in plan.refused:  # through a symlink out of the root: kept, and said so
        if text:
            text.append("\n")
        text.append(f"{'kept':>9}  ", style="bold")
        text.append(fmt.clean(f"{_relative(refused.path, root)}: {refused.message}"))
    return text


class WipeModal(ModalScreen[bool]):
    """Shows a ``WipePlan``; dismisses ``True`` only after ``wipe`` is typed and confirmed."""

    DEFAULT_CSS = """
    WipeModal {
        align: center middle;
    }
    #wipe-dialog {
        width: 84;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $error;
        border-title-style: bold;
        border-title-color: $error;
        background: $surface;
        padding: 0 1;
    }
    #wipe-summary {
        height: auto;
    }
    #wipe-files {
        height: auto;
        max-height: 12;
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
    }
    #wipe-prompt {
        margin-top: 1;
        color: $text-muted;
    }
    #wipe-confirm {
        width: 1fr;
    }
    #wipe-buttons {
        height: auto;
        align-horizontal: right;
    }
    #wipe-buttons Button {
        margin-left: 1;
        min-width: 12;
    }
    WipeModal.-short #wipe-files {
        max-height: 5;
    }
    WipeModal.-short #wipe-prompt {
        margin-top: 0;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="files.wipe-cancel", key_display="esc"),
    ]

    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (30, "-tall")]

    def __init__(self, plan: WipePlan) -> None:
        super().__init__()
        self.plan = plan

    def compose(self) -> ComposeResult:
        t = self.plan.totals
        with Vertical(id="wipe-dialog") as dialog:
            dialog.border_title = "Wipe telemetry files"
            dialog.border_subtitle = "cannot be undone"
            yield Static(summary(self.plan), id="wipe-summary")
            with VerticalScroll(id="wipe-files") as files:
                files.border_title = f"{fmt.count(t.files)} file{'s' if t.files != 1 else ''}"
                yield Static(file_list(self.plan), id="wipe-file-list")
            yield Label(Text(f"Type {CONFIRM_WORD} and press enter to delete them; "
                             "esc cancels."), id="wipe-prompt")
            with Horizontal(id="wipe-buttons"):
                yield Input(placeholder=CONFIRM_WORD, id="wipe-confirm")
                yield Button("Wipe", variant="error", id="wipe-yes", disabled=True)
                yield Button("Cancel", id="wipe-no")

    def on_mount(self) -> None:
        # The app's ``Screen`` rule makes every screen opaque; the table under the
        # modal is the context of the question, so let it show through, dimmed.
        base = self.app.get_css_variables().get("background", "#000000")
        with contextlib.suppress(Exception):  # a value Color cannot parse: stay opaque
            self.styles.background = Color.parse(base).with_alpha(0.75)
        self.query_one("#wipe-confirm", Input).focus()

    @property
    def confirmed(self) -> bool:
        return self.query_one("#wipe-confirm", Input).value.strip().lower() == CONFIRM_WORD

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#wipe-yes", Button).disabled = not self.confirmed

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.confirmed:
            self.dismiss(True)
        else:
            self.app.bell()
            self.query_one("#wipe-prompt", Label).update(
                Text(f"Type {CONFIRM_WORD} (exactly) to delete; esc cancels.", style="bold"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "wipe-yes" and self.confirmed:
            self.dismiss(True)
        elif event.button.id == "wipe-no":
            self.dismiss(False)

    def action_cancel(self) -> None:
        self.dismiss(False)
