"""PLACEHOLDER (scaffold only, replaced by the real Traces screen before landing)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static


class TracesScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Static("no trace store: tokentop --traces PATH|postgresql://...")
        yield Footer(show_command_palette=False)
