"""PLACEHOLDER (scaffold only, replaced by the real Spans screen before landing)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static


class SpansScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Static("gridctl OTLP traces")
        yield Footer(show_command_palette=False)
