"""SVG snapshots of the Traces screen at 80x24 and 120x40.

The store is the demo gateway's, built with seed 7 and the tests' fixed "now" (the
same rows on every machine), read with the fixed clock in UTC, with the demo's
diagnostics document for the queue badge. Paths are relative: no temporary path is
rendered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import cast

import pytest
from conftest import NOW
from test_traces_screen import open_traces, traces_app, wait_for
from textual.pilot import Pilot

from tokentop.tui.app import TokentopApp
from tokentop.tui.demo.traces import build_demo_traces

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]

SnapCompare = Callable[..., bool]


@pytest.fixture
def gateway_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TokentopApp]:
    monkeypatch.chdir(tmp_path)
    demo = build_demo_traces(seed=7, now=NOW, root=Path("gw"), count=1200)
    yield traces_app("gw/traces.db", "gw/trace-pipeline-diagnostics.json")
    demo.stop()


def on_traces(*keys: str, detail: bool = False) -> Callable[[Pilot[int]], Awaitable[None]]:
    async def hook(pilot: Pilot[int]) -> None:
        screen = await open_traces(pilot)
        await wait_for(pilot, lambda: screen.diagnostics is not None, "the diagnostics")
        for key in keys:
            await pilot.press(key)
        if detail:
            await wait_for(pilot, lambda: screen.detail is not None, "the detail")
        await pilot.pause()
        await pilot.pause()
        app = cast(TokentopApp, pilot.app)
        assert app.screen is screen

    return hook


@pytest.mark.parametrize("size", SIZES)
class TestTraces:
    def test_list(self, snap_compare: SnapCompare, gateway_app: TokentopApp,
                  size: tuple[int, int]) -> None:
        assert snap_compare(gateway_app, terminal_size=size, run_before=on_traces())

    def test_detail(self, snap_compare: SnapCompare, gateway_app: TokentopApp,
                    size: tuple[int, int]) -> None:
        hook = on_traces("down", "down", "enter", detail=True)
        assert snap_compare(gateway_app, terminal_size=size, run_before=hook)

    def test_analytics(self, snap_compare: SnapCompare, gateway_app: TokentopApp,
                       size: tuple[int, int]) -> None:
        assert snap_compare(gateway_app, terminal_size=size, run_before=on_traces("v"))

    def test_empty(self, snap_compare: SnapCompare, size: tuple[int, int]) -> None:
        async def hook(pilot: Pilot[int]) -> None:
            await pilot.press("4")
            await pilot.pause()
            await pilot.pause()

        assert snap_compare(traces_app(None), terminal_size=size, run_before=hook)
