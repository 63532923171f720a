"""SVG snapshots of the alert banner on the Overview and the Usage screen, 60x20 to
120x40: the fixed usage store and clock (conftest), two thresholds crossed (today's
$1.00 over $0.50, the weekly quota's 50% over 45%), so the banner shows the newest
alert and "+1 more"."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import cast

import pytest
from conftest import Tree, fixed_clock, settle_overview, settle_usage, write_usage_store
from textual.pilot import Pilot

from tokentop.store.metrics import MetricsSource
from tokentop.tui.app import TokentopApp
from tokentop.tui.config.alerts import AlertSettings

SIZES = [pytest.param((60, 20), id="60x20"), pytest.param((80, 24), id="80x24"),
         pytest.param((120, 40), id="120x40")]
SnapCompare = Callable[..., bool]


@pytest.fixture
def alerts_app(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> TokentopApp:
    monkeypatch.chdir(tree.root.parent)
    write_usage_store(Path("usage.db"))
    source = MetricsSource(tree.root.name, clock=fixed_clock)
    alerts = AlertSettings(thresholds={"cost-per-day": 0.5, "quota-percent": 45.0},
                           desktop=False)
    return TokentopApp(source, clock=fixed_clock, follow=False, usage_path=Path("usage.db"),
                       alerts=alerts)


async def wait_for_alerts(pilot: Pilot[int]) -> None:
    app = cast(TokentopApp, pilot.app)
    deadline = time.monotonic() + 30
    while len(app.alerts_shown) < 2:
        if time.monotonic() > deadline:  # pragma: no cover
            raise AssertionError("no alerts")
        await pilot.pause(0.02)
    await pilot.pause()
    await pilot.pause()


def on(screen_key: str | None) -> Callable[[Pilot[int]], Awaitable[None]]:
    async def hook(pilot: Pilot[int]) -> None:
        await settle_overview(pilot)
        await wait_for_alerts(pilot)
        if screen_key is not None:
            await pilot.press(screen_key)
            await settle_usage(pilot)

    return hook


@pytest.mark.parametrize("size", SIZES)
class TestAlertBanner:
    def test_overview(self, snap_compare: SnapCompare, alerts_app: TokentopApp,
                      size: tuple[int, int]) -> None:
        assert snap_compare(alerts_app, terminal_size=size, run_before=on(None))

    def test_usage(self, snap_compare: SnapCompare, alerts_app: TokentopApp,
                   size: tuple[int, int]) -> None:
        assert snap_compare(alerts_app, terminal_size=size, run_before=on("2"))
