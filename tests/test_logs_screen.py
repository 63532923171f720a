"""The Logs screen (7) driven as a user would: keys, real files, the real app."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest
from conftest import fixed_clock, make_app
from gridctl.gridlog_lines import append, local_ts, slog, write_fixed_tree
from textual.pilot import Pilot
from textual.widgets import Static

from tokentop.tui.app import TokentopApp
from tokentop.tui.screens.logs import LogsScreen, SignalScreen
from tokentop.tui.widgets.log_view import RecordList

NS = 1_000_000_000


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fixed tree, named by a relative path (no temporary path is ever rendered)."""
    monkeypatch.chdir(tmp_path)
    write_fixed_tree(tmp_path / "telemetry")
    return tmp_path / "telemetry"


def gridlogs_app(name: str = "telemetry", *, follow: bool = False) -> TokentopApp:
    return make_app(name, follow=follow, clock=fixed_clock)


async def open_screen(pilot: Pilot[int], key: str) -> SignalScreen:
    """Switch to screen ``key`` and wait (bounded) until its first load is shown."""
    await pilot.press(key)
    for _ in range(500):
        screen = pilot.app.screen
        if isinstance(screen, SignalScreen) and screen.loaded:
            break
        await pilot.pause(0.01)
    else:  # pragma: no cover
        raise AssertionError("the screen never loaded")
    await pilot.pause()
    await pilot.pause()
    return cast(SignalScreen, pilot.app.screen)


async def wait_for(pilot: Pilot[int], cond, what: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(800):
        if cond():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def shown(screen: SignalScreen) -> list[object]:
    return screen.query_one(RecordList).records


async def test_newest_records_of_every_server_merged(root: Path) -> None:
    app = gridlogs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, "7")
        assert isinstance(screen, LogsScreen)
        records = shown(screen)
        assert len(records) == 107  # 20 rotated (.gz) + 60 + 15 + 12 records
        times = [r.ns for r in records]  # type: ignore[attr-defined]
        assert times == sorted(times)
        assert screen.known_servers == ["dev/idle", "dev/search", "prod/github", "prod/slack"]
        assert screen.with_files == ["dev/search", "prod/github", "prod/slack"]
        status = str(screen.query_one("#logs-status").render())
        assert "107 records" in status and "1 malformed" in status and "following" in status
        log = screen.query_one(RecordList)
        assert log.following and log.scroll_offset.y == log.max_scroll_y  # at the tail


async def test_level_keys_server_cycle_and_search(root: Path) -> None:
    app = gridlogs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, "7")
        await pilot.press("l", "l")  # info and up, then warn and up
        assert {r.badge for r in shown(screen)} == {"WARN", "ERROR"}  # type: ignore[attr-defined]
        await pilot.press("l")  # cycles on: errors only
        assert {r.badge for r in shown(screen)} == {"ERROR"}  # type: ignore[attr-defined]
        await pilot.press("l")  # and round to everything
        assert len(shown(screen)) == 107
        await pilot.press("s", "s", "s")  # all -> dev/idle -> dev/search -> prod/github
        assert screen.server == "prod/github"
        assert {r.server for r in shown(screen)} == {"prod/github"}  # type: ignore[attr-defined]
        assert len(shown(screen)) == 80
        scope = str(screen.query_one("#logs-scope").render())
        assert "prod/github" in scope
        await pilot.press("slash", *"bad gateway", "enter")
        assert len(shown(screen)) == 8  # i % 10 == 9 in 20 rotated + 60 active
        assert all(r.msg == "tool call failed" for r in shown(screen))  # type: ignore[attr-defined]
        await pilot.press("escape")
        assert screen.query_text == "" and len(shown(screen)) == 80
        await pilot.press("S", "S", "S")
        assert screen.server is None


async def test_enter_opens_every_attribute_with_local_time_and_offset(root: Path) -> None:
    app = gridlogs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, "7")
        await pilot.press("s", "s", "s", "s")  # prod/slack: written at -05:00
        await pilot.press("up", "enter")
        pane = screen.query_one("#logs-detail")
        assert pane.display
        body = str(screen.query_one("#logs-detail-body", Static).render())
        last = shown(screen)[-1]
        assert str(last.ts).endswith("-05:00") and str(last.ts) in body  # type: ignore[attr-defined]
        assert "(local)" in body and "component" in body
        await pilot.press("escape")
        assert not pane.display


async def test_follow_appends_and_pause_holds_them(root: Path) -> None:
    app = gridlogs_app(follow=True)
    active = root / "prod" / "slack" / "logs.jsonl"
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, "7")
        before = len(shown(screen))
        append(active, slog(local_ts(1_777_982_400 * NS, -300), "ERROR", "appended live",
                            component="slack") + "\n")
        await wait_for(pilot, lambda: len(shown(screen)) == before + 1, "the appended record")
        assert shown(screen)[-1].msg == "appended live"  # type: ignore[attr-defined]
        await pilot.press("space")
        assert app.paused
        append(active, slog(local_ts(1_777_982_401 * NS, -300), "INFO", "while paused",
                            component="slack") + "\n")
        await wait_for(pilot, lambda: screen.new_while_paused == 1, "the paused count")
        assert len(shown(screen)) == before + 1  # the list holds still
        assert "1 new" in str(screen.query_one("#logs-paused").render())
        await pilot.press("space")
        assert shown(screen)[-1].msg == "while paused"  # type: ignore[attr-defined]


async def test_empty_state_says_where_it_looked(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "telemetry" / "prod" / "github").mkdir(parents=True)
    (tmp_path / "telemetry" / "prod" / "github" / "metrics.jsonl").write_text("")
    app = gridlogs_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, "7")
        empty = screen.query_one("#logs-empty", Static)
        assert empty.display and not screen.query_one(RecordList).display
        text = str(empty.render())
        assert "telemetry" in text and "no server has a logs.jsonl" in text
        assert "<stack>/<server>/logs.jsonl" in text


async def test_large_views_are_built_off_the_ui_thread(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tokentop.tui.screens.logs as logs_mod

    monkeypatch.setattr(logs_mod, "SYNC_VIEW_RECORDS", 10)
    app = gridlogs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, "7")
        await wait_for(pilot, lambda: len(shown(screen)) == 107, "the first view")
        await pilot.press("e")
        await wait_for(pilot, lambda: not screen.rebuilding, "the worker's view")
        assert len(shown(screen)) == 10 and {r.badge for r in shown(screen)} == {
            "ERROR"}  # type: ignore[attr-defined]
        await pilot.press("e", "slash", *"slack", "enter")
        await wait_for(pilot, lambda: not screen.rebuilding, "the worker's view")
        assert len(shown(screen)) == 15  # every slack record (component=slack)


async def test_markup_in_names_and_messages_stays_text(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    evil = tmp_path / "telemetry" / "prod" / "[b]evil"
    evil.mkdir(parents=True)
    (evil / "logs.jsonl").write_text(slog("2026-05-05T12:00:00Z", "ERROR", "[reverse]boom\x1b[2J",
                                          component="[link=http://x]c[/link]") + "\n")
    app = gridlogs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, "7")
        await pilot.press("enter")
        pane = screen.query_one("#logs-detail")
        assert pane.display and "[b]evil" in str(pane.border_title)
        body = str(screen.query_one("#logs-detail-body", Static).render())
        assert "[reverse]boom\\x1b[2J" in body and "[link=http://x]c[/link]" in body
        row = screen.query_one(RecordList).render_line(0).text
        assert "[b]evil" in row and "[reverse]boom" in row


async def test_click_a_server_in_the_selector(root: Path) -> None:
    app = gridlogs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, "7")
        await pilot.click("#logs-servers", offset=(6, 4))  # rows: all, dev/idle, dev/search,
        await pilot.pause()                                # prod/github, prod/slack
        assert screen.server == "prod/slack"
        assert {r.server for r in shown(screen)} == {"prod/slack"}  # type: ignore[attr-defined]
        assert screen.query_one(RecordList).has_focus


async def test_click_puts_the_cursor_on_a_record_and_a_second_click_opens_it(root: Path) -> None:
    app = gridlogs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, "7")
        log = screen.query_one(RecordList)
        pane = screen.query_one("#logs-detail")
        await pilot.click(log, offset=(2, 3))
        await pilot.pause()
        row = log.scroll_offset.y + 3
        assert log.cursor == row and log.selected is shown(screen)[row]
        assert not log.following and not pane.display
        await pilot.click(log, offset=(2, 3), times=2)
        await pilot.pause()
        assert log.cursor == row and pane.display
