"""The empty state: what tokentop looked for, where, and how to point it elsewhere.

A dashboard of zeros says nothing; a user who just installed tokentop needs to know
which directory was read and the ways to change it. The path is shown as plain
``Text`` (it comes from the environment or the command line, never markup).
Every screen that can have no source (Access, Traces, Events) says so the same way,
with :func:`howto_message`: what is missing, the commands that fix it, one note.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.widgets import Static

from tokentop.tui import format as fmt

Commands = Iterable[tuple[str, str]]  # (command line, what it does)


def append_commands(text: Text, commands: Commands, width: int | None = None) -> None:
    """Each command in bold with why in dim: on one line padded to ``width``, or, without
    a width (long commands), the why indented on the line below."""
    for cmd, why in commands:
        if width is None:
            text.append(f"  {cmd}\n", style="bold")
            text.append(f"      {why}\n", style="dim")
        else:
            text.append(f"  {cmd:<{width}}", style="bold")
            text.append(f"{why}\n", style="dim")


def howto_message(missing: str, commands: Commands, note: str) -> Text:
    """A screen's empty state: what is ``missing``, the ``commands`` that give it, a note."""
    text = Text()
    text.append(missing, style="bold")
    text.append("\n\n")
    append_commands(text, commands)
    text.append(f"\n{note}", style="italic")
    return text


def empty_message(root: Path, problem: str, waiting: bool) -> Text:
    """The body of the empty state for ``root`` and what is wrong with it."""
    text = Text()
    text.append("tokentop looked in\n  ")
    text.append(fmt.clean(root), style="bold")
    text.append(f"\n  ({problem})\n\n", style="italic")
    text.append("gridctl writes ")
    text.append("<stack>/<server>/metrics.jsonl", style="bold")
    text.append(" there\nwhile it runs.\n\n")
    text.append("Point tokentop elsewhere:\n")
    append_commands(text, (
        ("tokentop --metrics-dir DIR", "a telemetry root or one stack"),
        ("GRIDCTL_HOME=DIR tokentop", "reads DIR/.gridctl/telemetry"),
        ("tokentop --demo", "built-in demo data"),
    ), width=28)
    if waiting:
        text.append("\nWatching: the dashboard appears as soon as servers do.", style="italic")
    else:
        text.rstrip()
    return text


class EmptyState(Middle):
    """A centered, bordered explanation shown instead of the dashboard."""

    def compose(self) -> ComposeResult:
        with Center():
            yield Static(id="empty-body")

    def on_mount(self) -> None:
        self.query_one("#empty-body", Static).border_title = "No gridctl metrics to show"

    def show(self, root: Path, problem: str, waiting: bool) -> None:
        self.query_one("#empty-body", Static).update(empty_message(root, problem, waiting))
