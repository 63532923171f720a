"""PLACEHOLDER (scaffold only, replaced by the real Logs screen before landing)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static


class LogsScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Static("gridctl logs")
        yield Footer(show_command_palette=False)
