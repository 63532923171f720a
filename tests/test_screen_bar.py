"""The screen bar, help at the current screen's section, footers and status lines that
fit (issue 17, defect 9): pilot tests on fixed data, and the fitting rules by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import settle
from rich.cells import cell_len
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets._footer import FooterKey

from tokentop.store.metrics import MetricsSource
from tokentop.tui.app import TokentopApp
from tokentop.tui.screens.help import HelpScreen
from tokentop.tui.widgets.key_footer import KeyFooter, fit_hints, hint_width
from tokentop.tui.widgets.screen_bar import ScreenBar, layout
from tokentop.tui.widgets.status import StatusLine, fit_at_separator

TITLES = ["Overview", "Usage", "Events", "Traces", "Access", "Files", "Logs", "Spans"]
NAMES = ["OverviewScreen", "UsageScreen", "EventsScreen", "TracesScreen",
         "AccessScreen", "FilesScreen", "LogsScreen", "SpansScreen"]


# -- the rules -------------------------------------------------------------------------
def test_full_names_when_they_fit_else_numbers_and_the_current_name() -> None:
    labels, _ = layout(TITLES, 3, 80)
    assert labels == [f"{i + 1} {t}" for i, t in enumerate(TITLES)]
    labels, with_title = layout(TITLES, 3, 60)
    assert labels == ["1", "2", "3", "4 Traces", "5", "6", "7", "8"]
    assert with_title  # room for "tokentop" beside the short form
    labels, _ = layout(TITLES, 0, 30)
    assert labels[0] == "1 Overview"  # the current name is never cut


def test_a_status_line_is_cut_at_a_separator_only() -> None:
    line = Text("/tmp/x · rescans every second · w wipe row · W wipe server")
    assert fit_at_separator(line, 80) is line
    assert fit_at_separator(line, 50).plain == "/tmp/x · rescans every second · w wipe row …"
    assert fit_at_separator(line, 33).plain == "/tmp/x · rescans every second …"
    assert fit_at_separator(line, 30).plain == "/tmp/x …"
    # no separator that fits: at a space; a single long word alone is cut, marked
    assert fit_at_separator(Text("hidden: console network"), 20).plain == "hidden: console …"
    assert fit_at_separator(Text("abcdefghijkl"), 6).plain == "abcde…"


def test_footer_keeps_help_and_quit_and_drops_whole_hints() -> None:
    hints = [("app.next-screen", 12), ("traces.analytics", 12), ("traces.next-page", 7),
             ("app.quit", 7), ("app.help", 7), ("app.pause", 12)]
    assert fit_hints(hints, 200) == set(range(6))
    kept = fit_hints(hints, 40)
    assert {3, 4} <= kept and 0 not in kept and 5 not in kept
    assert sum(hints[i][1] for i in kept) <= 40
    assert fit_hints(hints, 10) >= {3, 4}  # help and quit even when nothing else fits
    assert hint_width("?", "Help", compact=False) == len(" ? Help ")


# -- on screen ---------------------------------------------------------------------------
def bar_text(app: TokentopApp) -> str:
    return str(app.screen.query_one(ScreenBar).render())


def footer_hints(app: TokentopApp) -> list[FooterKey]:
    return list(app.screen.query_one(KeyFooter).query(FooterKey))


async def wait_screen(pilot, app: TokentopApp, name: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(300):
        if type(app.screen).__name__ == name and app.screen.query(ScreenBar):
            return
        await pilot.pause(0.01)
    raise AssertionError(f"no {name}: {type(app.screen).__name__}")


@pytest.mark.parametrize("size", [(60, 20), (80, 24)])
async def test_every_screen_shows_the_bar_whole_hints_and_help(
        app: TokentopApp, size: tuple[int, int]) -> None:
    width = size[0]
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for i, name in enumerate(NAMES):
            await pilot.press(str(i + 1))
            await wait_screen(pilot, app, name)
            await pilot.pause()
            await pilot.pause()
            bar = bar_text(app)
            assert f"{i + 1} {TITLES[i]}" in bar, (name, bar)
            assert all(str(n) in bar for n in range(1, 9))
            assert len(bar) <= width
            hints = footer_hints(app)
            assert "?" in [h.key_display for h in hints], name
            assert sum(h.outer_size.width for h in hints) <= width, name
            assert all(h.region.right <= width for h in hints), name
            for line in app.screen.query(StatusLine):
                if line.display and line.size.width:
                    plain = line.render().plain  # type: ignore[union-attr]
                    assert cell_len(plain) <= line.content_size.width, (name, plain)
                    assert plain == line.full_text.plain or plain.endswith(" …"), plain


async def test_clicking_a_screen_in_the_bar_switches_to_it(tmp_path: Path) -> None:
    app = TokentopApp(MetricsSource(tmp_path), follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_screen(pilot, app, "OverviewScreen")
        bar = app.screen.query_one(ScreenBar)
        await pilot.pause()
        start = next(s for s, _, i in bar._spans if i == 6)
        await pilot.click(ScreenBar, offset=(start + 1, 0))
        await wait_screen(pilot, app, "LogsScreen")
        assert "7 Logs" in bar_text(app)
        bar = app.screen.query_one(ScreenBar)
        assert bar.screen_at(bar._spans[1][0]) == 1
        await pilot.click(ScreenBar, offset=(bar._spans[1][0], 0))
        await wait_screen(pilot, app, "UsageScreen")


async def test_help_opens_at_the_current_screens_section(tmp_path: Path) -> None:
    app = TokentopApp(MetricsSource(tmp_path), follow=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_screen(pilot, app, "OverviewScreen")
        await pilot.press("7")
        await wait_screen(pilot, app, "LogsScreen")
        await pilot.press("question_mark")
        for _ in range(300):
            if isinstance(app.screen, HelpScreen):
                scroll = app.screen.query_one("#help-scroll", VerticalScroll)
                section = app.screen.query_one("#help-logs")
                if scroll.scroll_y and scroll.scroll_y == section.virtual_region.y:
                    break
            await pilot.pause(0.01)
        assert isinstance(app.screen, HelpScreen)
        assert scroll.scroll_y == section.virtual_region.y > 0
        await pilot.press("escape")
        await pilot.press("1", "question_mark")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        # Overview's section starts right after the keys of every screen
        scroll = app.screen.query_one("#help-scroll", VerticalScroll)
        assert scroll.scroll_y == app.screen.query_one("#help-overview").virtual_region.y
