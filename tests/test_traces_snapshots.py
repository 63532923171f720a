"""SVG snapshots of the Traces screen at 60x20, 80x24, 120x40 and 200x60.

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

SIZES = [pytest.param((60, 20), id="60x20"), pytest.param((80, 24), id="80x24"),
         pytest.param((120, 40), id="120x40"), pytest.param((200, 60), id="200x60")]

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

    def test_errors_sorted(self, snap_compare: SnapCompare, gateway_app: TokentopApp,
                           size: tuple[int, int]) -> None:
        """Errors only, sorted by latency: the filter line, the ▼ on Latency."""
        async def hook(pilot: Pilot[int]) -> None:
            screen = await open_traces(pilot)
            await wait_for(pilot, lambda: screen.diagnostics is not None, "the diagnostics")
            loaded = screen.pages_loaded
            await pilot.press("e")
            await wait_for(pilot, lambda: screen.pages_loaded > loaded, "the errors")
            await pilot.press("o")
            await pilot.pause()
            await pilot.pause()

        assert snap_compare(gateway_app, terminal_size=size, run_before=hook)

    def test_bad_store(self, snap_compare: SnapCompare, size: tuple[int, int],
                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A store path that does not exist: the error whole, wrapped, in one place."""
        monkeypatch.chdir(tmp_path)

        async def hook(pilot: Pilot[int]) -> None:
            screen = await open_traces(pilot)
            assert screen.error is not None
            await pilot.pause()
            await pilot.pause()

        app = traces_app("no/such/gateway/directory/with/a/long/name/traces.db")
        assert snap_compare(app, terminal_size=size, run_before=hook)
