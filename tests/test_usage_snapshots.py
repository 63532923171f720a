"""SVG snapshots of the Usage screen, 60x20 to 200x60 (fixed store, fixed clock, UTC).

The store is ``conftest.usage_requests`` (a priced and an unpriced model, a tool call,
two quota snapshots, an active 5-hour block); the hook waits until the screen shows the
read of its window, so the pictures are the same on every run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from conftest import settle_overview, settle_usage
from textual.pilot import Pilot

from tokentop.tui.app import TokentopApp

SIZES = [pytest.param((60, 20), id="60x20"), pytest.param((80, 24), id="80x24"),
         pytest.param((120, 40), id="120x40"), pytest.param((200, 60), id="200x60")]

SnapCompare = Callable[..., bool]


def on_usage(*keys: str) -> Callable[[Pilot[int]], Awaitable[None]]:
    async def hook(pilot: Pilot[int]) -> None:
        await settle_overview(pilot)
        await pilot.press("2")
        await settle_usage(pilot)
        for key in keys:
            await pilot.press(key)
            await settle_usage(pilot)

    return hook


@pytest.mark.parametrize("size", SIZES)
class TestUsage:
    def test_day(self, snap_compare: SnapCompare, usage_app: TokentopApp,
                 size: tuple[int, int]) -> None:
        assert snap_compare(usage_app, terminal_size=size, run_before=on_usage())

    def test_week_by_project(self, snap_compare: SnapCompare, usage_app: TokentopApp,
                             size: tuple[int, int]) -> None:
        hook = on_usage("r", "r", "b", "b", "b")
        assert snap_compare(usage_app, terminal_size=size, run_before=hook)

    def test_month_by_tool(self, snap_compare: SnapCompare, usage_app: TokentopApp,
                           size: tuple[int, int]) -> None:
        hook = on_usage("r", "r", "r", "r", "b", "b", "b", "b")
        assert snap_compare(usage_app, terminal_size=size, run_before=hook)
