"""SVG snapshots of the Spans screen (8) at 80x24 and 120x40: the table and a waterfall.

Same fixed tree, clock and relative path as the Logs snapshots.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from gridctl.gridlog_lines import write_fixed_tree
from test_logs_screen import gridlogs_app
from test_logs_snapshots import on_screen

from tokentop.tui.app import TokentopApp

SIZES = [pytest.param((60, 20), id="60x20"), pytest.param((80, 24), id="80x24"),
         pytest.param((120, 40), id="120x40"), pytest.param((200, 60), id="200x60")]

SnapCompare = Callable[..., bool]


@pytest.fixture
def spans_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TokentopApp:
    monkeypatch.chdir(tmp_path)
    write_fixed_tree(tmp_path / "telemetry")
    return gridlogs_app()


@pytest.mark.parametrize("size", SIZES)
class TestSpans:
    def test_table(self, snap_compare: SnapCompare, spans_app: TokentopApp,
                   size: tuple[int, int]) -> None:
        assert snap_compare(spans_app, terminal_size=size, run_before=on_screen("8"))

    def test_waterfall(self, snap_compare: SnapCompare, spans_app: TokentopApp,
                       size: tuple[int, int]) -> None:
        hook = on_screen("8", "s", "s", "s", "up", "up", "enter")
        assert snap_compare(spans_app, terminal_size=size, run_before=hook)
