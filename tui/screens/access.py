"""PLACEHOLDER (scaffold only, replaced by the real Access screen before landing)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static


class AccessScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Static("no access events: tokentop --access FILE")
        yield Footer(show_command_palette=False)
