"""SVG snapshots of the Logs screen (7) at 80x24 and 120x40.

The fixed tree of ``gridctl/gridlog_lines.py`` (records written at +02:00, -05:00 and
UTC, a rotated .gz, a malformed line), the fixed clock, local time UTC; the hook waits
until the screen's worker has loaded. The tree is named by a relative path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from gridctl.gridlog_lines import write_fixed_tree
from test_logs_screen import gridlogs_app, open_screen
from textual.pilot import Pilot

from tokentop.tui.app import TokentopApp

SIZES = [pytest.param((60, 20), id="60x20"), pytest.param((80, 24), id="80x24"),
         pytest.param((120, 40), id="120x40"), pytest.param((200, 60), id="200x60")]

SnapCompare = Callable[..., bool]


@pytest.fixture
def logs_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TokentopApp:
    monkeypatch.chdir(tmp_path)
    write_fixed_tree(tmp_path / "telemetry")
    return gridlogs_app()


def on_screen(key: str, *keys: str) -> Callable[[Pilot[int]], Awaitable[None]]:
    async def hook(pilot: Pilot[int]) -> None:
        await open_screen(pilot, key)
        for k in keys:
            await pilot.press(k)
        await pilot.pause()
        await pilot.pause()

    return hook


@pytest.mark.parametrize("size", SIZES)
class TestLogs:
    def test_log(self, snap_compare: SnapCompare, logs_app: TokentopApp,
                 size: tuple[int, int]) -> None:
        assert snap_compare(logs_app, terminal_size=size, run_before=on_screen("7"))

    def test_detail_warn_and_up(self, snap_compare: SnapCompare, logs_app: TokentopApp,
                                size: tuple[int, int]) -> None:
        hook = on_screen("7", "s", "s", "s", "l", "l", "up", "up", "enter")
        assert snap_compare(logs_app, terminal_size=size, run_before=hook)

    def test_search_typed(self, snap_compare: SnapCompare, logs_app: TokentopApp,
                          size: tuple[int, int]) -> None:
        """The search box: one row, the typed text visible (issue 17, defect 2)."""
        hook = on_screen("7", "slash", *"slack")
        assert snap_compare(logs_app, terminal_size=size, run_before=hook)
