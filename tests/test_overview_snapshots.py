"""SVG snapshots of the Overview and its help, at 80x24 and 120x40.

One class per feature (the Posting layout). Every snapshot is taken on the fixed tree
with the fixed clock in UTC, after the replay worker finished and the screen redrew,
so they are byte-identical from run to run. ``pytest --snapshot-update`` accepts new
ones; look at them (``snapshot_report.html``) before committing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import MISSING_ROOT, make_app, run_before
from textual.pilot import Pilot

from tui.app import TokentopApp

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]

SnapCompare = Callable[..., bool]


async def _pick_second_server(pilot: Pilot[int]) -> None:
    await pilot.press("down", "enter")


async def _range_24h(pilot: Pilot[int]) -> None:
    await pilot.press("r", "r", "r")


async def _help(pilot: Pilot[int]) -> None:
    await pilot.press("question_mark")


async def _filter(pilot: Pilot[int]) -> None:
    await pilot.press("slash", "p", "r", "o", "d")


@pytest.mark.parametrize("size", SIZES)
class TestOverview:
    def test_loaded(self, snap_compare: SnapCompare, app: TokentopApp,
                    size: tuple[int, int]) -> None:
        assert snap_compare(app, terminal_size=size, run_before=run_before())

    def test_server_selected(self, snap_compare: SnapCompare, app: TokentopApp,
                             size: tuple[int, int]) -> None:
        assert snap_compare(app, terminal_size=size, run_before=run_before(_pick_second_server))

    def test_range_24h(self, snap_compare: SnapCompare, app: TokentopApp,
                       size: tuple[int, int]) -> None:
        assert snap_compare(app, terminal_size=size, run_before=run_before(_range_24h))

    def test_filtered(self, snap_compare: SnapCompare, app: TokentopApp,
                      size: tuple[int, int]) -> None:
        assert snap_compare(app, terminal_size=size, run_before=run_before(_filter))


@pytest.mark.parametrize("size", SIZES)
class TestEmptyState:
    def test_missing_root(self, snap_compare: SnapCompare, size: tuple[int, int]) -> None:
        # Following, as a user would: the worker reports it is waiting for the directory.
        app = make_app(MISSING_ROOT, follow=True)
        hook = run_before(until=lambda a: a.source.error is not None)
        assert snap_compare(app, terminal_size=size, run_before=hook)


@pytest.mark.parametrize("size", SIZES)
class TestHelp:
    def test_help(self, snap_compare: SnapCompare, app: TokentopApp,
                  size: tuple[int, int]) -> None:
        assert snap_compare(app, terminal_size=size, run_before=run_before(_help))
