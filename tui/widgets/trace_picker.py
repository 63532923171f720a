"""Pick a Traces filter value from a list (``p``), instead of cycling ``m`` through forty
models one key press at a time (issue 17: "pick a filter value from a list").

The modal lists every value the screen offers, grouped (provider, model, status,
tenant), the ones in force marked ``●``; typing narrows the list, ``enter`` applies the
highlighted value, ``esc`` closes without change. It dismisses with the chosen
:class:`Choice` (or None). Values come from the gateway's database: each is a
``rich.text.Text`` of ``tokentop.tui.format.clean``-ed text, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from tokentop.tui import format as fmt


@dataclass(frozen=True)
class Choice:
    """One filter value: ``kind`` is provider, model, status or tenant; ``value`` None
    means "all" for that kind."""

    kind: str
    value: object
    label: str
    current: bool = False


class FilterPicker(ModalScreen[Choice | None]):
    """A filterable list of filter values."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="traces.pick-close", key_display="esc"),
        Binding("down", "list_down", show=False, id="traces.pick-down"),
        Binding("up", "list_up", show=False, id="traces.pick-up"),
    ]

    DEFAULT_CSS = """
    FilterPicker { align: center middle; }
    FilterPicker #picker {
        width: 60; max-width: 100%; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    FilterPicker #picker-input {
        height: 1; border: none; padding: 0 1; background: $boost; color: $text;
    }
    FilterPicker #picker-list { height: auto; max-height: 20; border: none; }
    FilterPicker #picker-hint { color: $text-muted; }
    """

    def __init__(self, choices: Sequence[Choice]) -> None:
        super().__init__()
        self.choices = list(choices)
        self.shown: list[Choice] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label("type to narrow · ↑↓ choose · enter apply · esc close",
                        id="picker-hint")
            yield Input(placeholder="provider, model, status or tenant", id="picker-input")
            yield OptionList(id="picker-list")

    def on_mount(self) -> None:
        self.query_one("#picker").border_title = "Filter traces"
        self._fill("")
        self.query_one("#picker-input", Input).focus()

    def _fill(self, typed: str) -> None:
        """The choices whose kind or value contains ``typed`` (any case), by kind."""
        words = typed.strip().lower()
        self.shown = [c for c in self.choices
                      if not words or words in f"{c.kind} {c.label}".lower()]
        options: list[Option | None] = []
        kind = None
        for i, c in enumerate(self.shown):
            if c.kind != kind:
                if kind is not None:
                    options.append(None)
                kind = c.kind
            prompt = Text(no_wrap=True, overflow="ellipsis")
            prompt.append("● " if c.current else "  ", style="bold")
            prompt.append(f"{c.kind:<9}", style="dim")
            prompt.append(fmt.clean(c.label), style="bold" if c.current else "")
            options.append(Option(prompt, id=str(i)))
        listing = self.query_one("#picker-list", OptionList)
        listing.clear_options()
        listing.add_options(options)
        if self.shown:
            listing.highlighted = 0

    @on(Input.Changed, "#picker-input")
    def _typed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#picker-input")
    def _submitted(self) -> None:
        listing = self.query_one("#picker-list", OptionList)
        if listing.highlighted is not None:
            self._pick(listing.get_option_at_index(listing.highlighted).id)

    @on(OptionList.OptionSelected, "#picker-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._pick(event.option.id)

    def _pick(self, option_id: str | None) -> None:
        if option_id is not None:
            self.dismiss(self.shown[int(option_id)])

    def action_list_down(self) -> None:
        self.query_one("#picker-list", OptionList).action_cursor_down()

    def action_list_up(self) -> None:
        self.query_one("#picker-list", OptionList).action_cursor_up()

    def action_close(self) -> None:
        self.dismiss(None)
