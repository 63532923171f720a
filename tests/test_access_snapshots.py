"""SVG snapshots of the Access screen at 80x24 and 120x40.

The log is the demo's fixed excerpt (``tokentop.tui.demo.access.sample_lines`` with seed 7,
an hour of reads up to the fixed clock, one torn line), read once to its end with the
fixed clock in UTC. It is named by a relative path: no temporary path is rendered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from conftest import NOW_TS
from test_access_screen import access_app, open_access
from textual.pilot import Pilot

from tokentop.tui.app import TokentopApp
from tokentop.tui.demo.access import sample_lines

SIZES = [pytest.param((60, 20), id="60x20"), pytest.param((80, 24), id="80x24"),
         pytest.param((120, 40), id="120x40"), pytest.param((200, 60), id="200x60")]

SnapCompare = Callable[..., bool]


@pytest.fixture
def access_file_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TokentopApp:
    monkeypatch.chdir(tmp_path)
    Path("access.jsonl").write_text("\n".join(sample_lines(NOW_TS, 7)) + "\n")
    return access_app("access.jsonl")


def on_access(*keys: str) -> Callable[[Pilot[int]], Awaitable[None]]:
    async def hook(pilot: Pilot[int]) -> None:
        screen = await open_access(pilot)
        for key in keys:
            await pilot.press(key)
        screen.redraw(force=True)
        await pilot.pause()
        await pilot.pause()

    return hook


@pytest.mark.parametrize("size", SIZES)
class TestAccess:
    def test_loaded(self, snap_compare: SnapCompare, access_file_app: TokentopApp,
                    size: tuple[int, int]) -> None:
        assert snap_compare(access_file_app, terminal_size=size, run_before=on_access())

    def test_by_integration(self, snap_compare: SnapCompare, access_file_app: TokentopApp,
                            size: tuple[int, int]) -> None:
        assert snap_compare(access_file_app, terminal_size=size, run_before=on_access("b"))

    def test_errors(self, snap_compare: SnapCompare, access_file_app: TokentopApp,
                    size: tuple[int, int]) -> None:
        """Failed reads by message: one ``B`` back from outcome."""
        assert snap_compare(access_file_app, terminal_size=size, run_before=on_access("B"))

    def test_empty(self, snap_compare: SnapCompare, size: tuple[int, int]) -> None:
        async def hook(pilot: Pilot[int]) -> None:
            await pilot.press("5")
            await pilot.pause()
            await pilot.pause()

        assert snap_compare(access_app(None), terminal_size=size, run_before=hook)
