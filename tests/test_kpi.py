"""The KPI card never cuts a number (issue 17, defect 1): at 60 columns five cards get
eleven cells each, and ``Requests 1`` (for 1,919) or ``Burn $1.65/`` read as other values.
"""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.containers import Horizontal

from tokentop.tui.widgets.kpi import KpiCard, fit_card, shorter_numbers


@pytest.mark.parametrize(("value", "shorter"), [
    ("1,919", ["1.9k"]),
    ("$13.36", ["$13.4", "$13"]),
    ("$1.65/h", ["$1.7/h"]),
    ("$1.65/h 2.3k/min", ["$1.65/h", "$1.7/h"]),
    ("52% (1,919)", ["52%"]),
    ("52.3%", ["52%"]),
    ("1.5M", []),  # "2M" would be another figure
    ("$0.0123", ["$0.012"]),  # never "$0"
    ("123 ms", ["123ms"]),
    ("—", []),
    ("not in files", []),
    ("2 of 24 h", []),
])
def test_shorter_numbers(value: str, shorter: list[str]) -> None:
    assert shorter_numbers(value) == shorter


@pytest.mark.parametrize(("label", "value", "width", "inline", "shown"), [
    ("Input", "623k", 13, True, ("Input", "623k")),
    ("Cached", "52% (1,919)", 11, True, ("Cached", "52%")),
    ("Burn", "$1.65/h", 11, True, ("Burn", "$1.7/h")),
    ("Requests", "1,919", 11, True, ("Requ…", "1,919")),
    ("Requests", "1,919", 14, True, ("Requests", "1,919")),
    ("Requests", "1,919", 13, True, ("Requests", "1.9k")),
    ("Total", "1,234,567", 4, False, ("Total", "1.2M")),
    ("Total", "1,234,567", 3, False, ("Total", "…")),  # a cut "1.2" reads as another value
    ("Cost", "not in files", 8, False, ("Cost", "not in…")),
])
def test_fit_card(label: str, value: str, width: int, inline: bool,
                  shown: tuple[str, str]) -> None:
    assert fit_card(label, value, width, inline) == shown


class Cards(App[None]):
    CSS = """
    KpiCard { width: 1fr; height: 3; border: round white; }
    .kpi-label { display: none; margin-right: 1; }
    Screen.-short KpiCard { height: 1; border: none; }
    Screen.-short .kpi-label { display: block; }
    """
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]  # noqa: RUF012

    def compose(self) -> ComposeResult:
        with Horizontal():
            for name in ("Requests", "Tokens", "Cost", "Errors", "p95"):
                yield KpiCard(name, id=f"k-{name.lower()}")


@pytest.mark.parametrize("size", [(60, 20), (80, 24), (200, 60)])
async def test_cards_fit_their_width(size: tuple[int, int]) -> None:
    app = Cards()
    async with app.run_test(size=size) as pilot:
        values = {"k-requests": "1,919", "k-tokens": "6.6M", "k-cost": "$13.36",
                  "k-errors": "12.5%", "k-p95": "1,234 ms"}
        for wid, value in values.items():
            app.query_one(f"#{wid}", KpiCard).set_value(value)
        await pilot.pause()
        for card in app.query(KpiCard):
            label, value = card.shown
            assert card.value == values[card.id or ""]  # the whole figure stays readable
            used = len(label) + (1 if label else 0) + len(value)
            if size == (200, 60):
                assert card.shown[1] == card.value
            assert used <= card.content_size.width, (card.id, card.shown)
            assert value != "…"
