"""SVG snapshots of the Files screen and its wipe modal at 80x24 and 120x40.

The tree (``gridctl.files_tree.screen_tree``) has fixed sizes and mtimes (``os.utime``),
the clock is fixed at 12:30 UTC, the root is the relative ``telemetry``: the same
pixels on every machine, and no temporary path on screen.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from conftest import make_app
from gridctl.files_tree import screen_tree
from test_files_screen import open_files, wait
from textual.pilot import Pilot

from tokentop.tui.app import TokentopApp
from tokentop.tui.widgets.files_wipe import WipeModal

SIZES = [pytest.param((60, 20), id="60x20"), pytest.param((80, 24), id="80x24"),
         pytest.param((120, 40), id="120x40"), pytest.param((200, 60), id="200x60")]

SnapCompare = Callable[..., bool]


@pytest.fixture
def files_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TokentopApp:
    monkeypatch.chdir(tmp_path)
    screen_tree(Path("telemetry"))
    return make_app("telemetry")


def on_files(*keys: str) -> Callable[[Pilot[int]], Awaitable[None]]:
    async def hook(pilot: Pilot[int]) -> None:
        await open_files(pilot)
        for key in keys:
            await pilot.press(key)
            if key in ("w", "W") and not isinstance(pilot.app.screen, WipeModal):
                await wait(pilot, lambda: isinstance(pilot.app.screen, WipeModal))
        await pilot.pause()
        await pilot.pause()

    return hook


@pytest.mark.parametrize("size", SIZES)
class TestFiles:
    def test_table(self, snap_compare: SnapCompare, files_app: TokentopApp,
                   size: tuple[int, int]) -> None:
        assert snap_compare(files_app, terminal_size=size, run_before=on_files("down", "down"))

    def test_wipe_modal(self, snap_compare: SnapCompare, files_app: TokentopApp,
                        size: tuple[int, int]) -> None:
        hook = on_files("down", "down", "W", "w", "i", "p", "e")
        assert snap_compare(files_app, terminal_size=size, run_before=hook)
