"""Pilot tests of the Files screen (6) and its wipe modal, on real files in a temp tree.

The tree is ``gridctl.files_tree.screen_tree`` with fixed sizes and mtimes; the app is
the real one with the fixed clock (12:30 UTC), named by a relative path.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest
from conftest import MISSING_ROOT, make_app
from gridctl.files_tree import NOW, put, screen_tree
from textual.pilot import Pilot
from textual.widgets import Button, Input, Label, Static

from tokentop.store.gridctl.inventory import InventoryRecord
from tokentop.tui.app import TokentopApp
from tokentop.tui.screens.files import FilesScreen
from tokentop.tui.widgets.files_table import FilesTable
from tokentop.tui.widgets.files_wipe import WipeModal


@pytest.fixture
def files_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TokentopApp:
    monkeypatch.chdir(tmp_path)
    screen_tree(Path("telemetry"))
    return make_app("telemetry")


def on_disk() -> set[str]:
    return {str(p.relative_to("telemetry")) for p in Path("telemetry").rglob("*")
            if p.is_file()}


async def wait(pilot: Pilot[int], cond: Callable[[], bool], tries: int = 1000) -> None:
    for _ in range(tries):
        if cond():
            await pilot.pause()
            return
        await pilot.pause(0.01)
    raise AssertionError("condition not reached")


async def open_files(pilot: Pilot[int]) -> FilesScreen:
    await pilot.press("6")
    app = cast(TokentopApp, pilot.app)
    await wait(pilot, lambda: isinstance(app.screen, FilesScreen) and app.screen.scans > 0)
    return cast(FilesScreen, app.screen)


def rows(screen: FilesScreen) -> list[list[str]]:
    table = screen.query_one(FilesTable)
    return [[cell.plain.strip() for cell in table.get_row_at(i)] for i in range(table.row_count)]


def label(screen: FilesScreen, selector: str) -> str:
    widget = screen.query_one(selector)
    assert isinstance(widget, Label | Static)
    return str(widget.render()).strip() if isinstance(widget, Label) else str(widget.content)


EXPECTED_ROWS = [
    # gridctl's Inventory lists the skill-usage directory too (pkg/telemetry/inventory.go)
    ["dev/__skills__", "metrics", "75 B", "1", "—", "12:20 · 10m ago"],
    ["dev/search", "traces", "1.7 MB", "2", "4d 19h", "May 03 07:30 · 2d ago"],
    ["prod/github", "logs", "157.5 kB", "3", "3d 23h", "12:29 · 1m ago"],
    ["prod/github", "metrics", "270.0 kB", "3", "23h 59m", "12:29 · 30s ago"],
    ["prod/github", "traces", "2.5 MB", "1", "—", "12:29 · 5s ago"],
    ["prod/slack", "logs", "0 B", "1", "—", "09:30 · 3h ago"],
    ["prod/slack", "metrics", "4.5 kB", "1", "—", "12:28 · 1m ago"],
]


async def test_table_totals_and_detail(files_app: TokentopApp) -> None:
    async with files_app.run_test(size=(120, 40)) as pilot:
        screen = await open_files(pilot)
        assert rows(screen) == EXPECTED_ROWS
        assert label(screen, "#files-totals") == (
            "total 4.6 MB · 12 files · 4 servers · 7 signals · oldest Apr 28 12:30 (7d ago) "
            "· span 6d 23h")
        status = label(screen, "#files-status")
        assert status.startswith("telemetry · scanned once")
        await pilot.press("down", "down")  # the detail pane: the row's files, newest first
        await pilot.pause()
        detail = screen.query_one("#files-detail", Static)
        assert detail.border_title == "prod/github · logs"
        assert [line.split()[-1] for line in str(detail.content).splitlines()] == [
            "prod/github/logs.jsonl", "prod/github/logs-2026-05-03T08-00-00.000.jsonl",
            "prod/github/logs-2026-05-01T08-00-00.000.jsonl.gz"]


async def test_narrow_table_shows_ages_only(files_app: TokentopApp) -> None:
    async with files_app.run_test(size=(80, 24)) as pilot:
        screen = await open_files(pilot)
        assert [r[-1] for r in rows(screen)] == ["10m ago", "2d ago", "1m ago", "30s ago", "5s ago",
                                                 "3h ago", "1m ago"]
        assert not screen.query_one("#files-detail").display or screen.query_one(
            "#files-detail").region.height == 0


async def test_at_60_columns_the_span_gives_way_and_last_write_stays_whole(
        files_app: TokentopApp) -> None:
    """Issue 17 walk-through at 60x20: the table was 62 cells wide, so "Last write" lost
    its last cells ("just" for "just now", "Last wr")."""
    async with files_app.run_test(size=(60, 20)) as pilot:
        screen = await open_files(pilot)
        table = screen.query_one(FilesTable)
        assert [str(c.label).strip() for c in table.columns.values()][-1] == "Last write"
        assert "span" not in {str(k.value) for k in table.columns}
        assert table.virtual_size.width <= table.scrollable_content_region.width
        assert [r[-1] for r in rows(screen)][:2] == ["10m ago", "2d ago"]


async def test_wipe_row_after_typing_wipe(files_app: TokentopApp) -> None:
    before = on_disk()
    async with files_app.run_test(size=(120, 40)) as pilot:
        screen = await open_files(pilot)
        await pilot.press("down", "down", "w")
        await wait(pilot, lambda: isinstance(files_app.screen, WipeModal))
        modal = cast(WipeModal, files_app.screen)
        listed = {str(p.relative_to("telemetry")) for p in modal.plan.paths}
        gone = {"prod/github/logs.jsonl", "prod/github/logs-2026-05-03T08-00-00.000.jsonl",
                "prod/github/logs-2026-05-01T08-00-00.000.jsonl.gz"}
        assert listed == gone
        shown = str(modal.query_one("#wipe-file-list", Static).content)
        assert all(p in shown for p in gone)
        summary = modal.query_one("#wipe-summary", Static).content
        assert summary is not None
        assert modal.query_one("#wipe-yes", Button).disabled
        await pilot.press("w", "i", "p", "e")
        assert not modal.query_one("#wipe-yes", Button).disabled
        await pilot.press("enter")
        await wait(pilot, lambda: screen.wipes == 1 and screen.scans >= 2
                   and len(rows(screen)) == 6)
        assert isinstance(files_app.screen, FilesScreen)
        assert on_disk() == before - gone
        assert [r[:2] for r in rows(screen)] == [
            ["dev/__skills__", "metrics"], ["dev/search", "traces"], ["prod/github", "metrics"],
            ["prod/github", "traces"], ["prod/slack", "logs"], ["prod/slack", "metrics"]]
        assert label(screen, "#files-message") == "wiped prod/github logs: 3 files, 157.5 kB"
        # The cursor stays where it was: on the row that took the wiped row's place.
        selected = screen.query_one(FilesTable).selected
        assert selected is not None
        assert (selected.server, selected.signal) == ("prod/github", "metrics")


async def test_wipe_server_with_the_button(files_app: TokentopApp) -> None:
    before = on_disk()
    async with files_app.run_test(size=(120, 40)) as pilot:
        screen = await open_files(pilot)
        await pilot.press("down", "down", "down", "down", "down", "W")
        await wait(pilot, lambda: isinstance(files_app.screen, WipeModal))
        modal = cast(WipeModal, files_app.screen)
        assert modal.plan.servers == ["prod/slack"]
        assert modal.plan.signals == ["logs", "metrics"]
        modal.query_one("#wipe-confirm", Input).value = "WIPE"
        await pilot.pause()
        await pilot.click("#wipe-yes")
        await wait(pilot, lambda: screen.wipes == 1 and len(rows(screen)) == 5)
        assert on_disk() == before - {"prod/slack/logs.jsonl", "prod/slack/metrics.jsonl"}
        assert label(
            screen, "#files-message") == "wiped prod/slack (all signals): 2 files, 4.5 kB"


async def test_cancel_deletes_nothing(files_app: TokentopApp) -> None:
    before = on_disk()
    async with files_app.run_test(size=(120, 40)) as pilot:
        screen = await open_files(pilot)
        await pilot.press("W")
        await wait(pilot, lambda: isinstance(files_app.screen, WipeModal))
        await pilot.press("y", "enter", "y", "enter")  # not the word: nothing happens
        assert isinstance(files_app.screen, WipeModal)
        await pilot.press("escape")
        await wait(pilot, lambda: isinstance(files_app.screen, FilesScreen))
        await pilot.press("w")
        await wait(pilot, lambda: isinstance(files_app.screen, WipeModal))
        await pilot.click("#wipe-no")
        await wait(pilot, lambda: isinstance(files_app.screen, FilesScreen))
        await pilot.pause()
        assert screen.wipes == 0
        assert on_disk() == before
        assert rows(screen) == EXPECTED_ROWS
        assert not screen.query_one("#files-message").display


async def test_files_that_cannot_be_deleted_are_reported(files_app: TokentopApp) -> None:
    async with files_app.run_test(size=(120, 40)) as pilot:
        screen = await open_files(pilot)
        await pilot.press("down", "down", "down", "w")  # prod/github metrics
        await wait(pilot, lambda: isinstance(files_app.screen, WipeModal))
        # Between the preview and the confirmation, a listed file became a directory.
        blocker = Path("telemetry/prod/github/metrics-2026-05-04T12-00-00.000.jsonl")
        blocker.unlink()
        blocker.mkdir()
        (blocker / "x").write_text("x")
        await pilot.press("w", "i", "p", "e", "enter")
        await wait(pilot, lambda: screen.wipes == 1)
        report = screen.last_report
        assert report is not None and len(report.deleted) == 2 and len(report.errors) == 1
        assert label(screen, "#files-message") == (
            "wiped prod/github metrics: 2 files, 150.0 kB · 1 file not deleted: "
            "telemetry/prod/github/metrics-2026-05-04T12-00-00.000.jsonl: is a directory, "
            "not a telemetry file")
        assert (blocker / "x").exists()


async def test_live_rescan_shows_growth_and_new_servers(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    screen_tree(Path("telemetry"))
    app = make_app("telemetry", follow=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_files(pilot)
        with open("telemetry/prod/slack/logs.jsonl", "ab") as fh:
            fh.write(b"x" * 2047 + b"\n")
        put(Path("telemetry/prod/zeta/metrics.jsonl"), b"", NOW - 10)
        await wait(pilot, lambda: len(rows(screen)) == 8 and rows(screen)[5][2] == "2.0 kB",
                   tries=1500)
        assert rows(screen)[7][:4] == ["prod/zeta", "metrics", "0 B", "1"]
        assert label(screen, "#files-status").startswith("telemetry · rescans every second")


async def test_paused_table_stays_put(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    screen_tree(Path("telemetry"))
    app = make_app("telemetry", follow=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_files(pilot)
        await pilot.press("space")
        assert screen.query_one("#files-paused").display
        put(Path("telemetry/prod/zeta/metrics.jsonl"), b"", NOW - 10)
        await wait(pilot, lambda: screen.pending is not None, tries=1500)
        assert len(rows(screen)) == 7
        await pilot.press("space")
        await wait(pilot, lambda: len(rows(screen)) == 8)


async def test_missing_root_says_where_it_looked() -> None:
    app = make_app(MISSING_ROOT)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_files(pilot)
        assert not screen.query_one(FilesTable).display
        text = str(screen.query_one("#files-empty", Static).content)
        assert text.startswith(f"no telemetry directory: {MISSING_ROOT}")
        await pilot.press("w", "W")  # nothing to wipe: no modal
        await pilot.pause()
        assert isinstance(app.screen, FilesScreen)


async def test_names_are_shown_escaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    put(Path("telemetry/prod/evil\x1b[31m[b]x[red]/logs.jsonl"), b"x\n", NOW - 60)
    app = make_app("telemetry")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_files(pilot)
        assert rows(screen)[0][0] == "prod/evil\\x1b[31m[b]x[red]"
        record: InventoryRecord | None = screen.query_one(FilesTable).selected
        assert record is not None and record.server == "prod/evil\x1b[31m[b]x[red]"


def test_no_temp_path_in_relative_root(files_app: TokentopApp) -> None:
    assert not os.path.isabs(str(files_app.source.root))


async def test_a_wipe_shows_even_while_paused(files_app: TokentopApp) -> None:
    async with files_app.run_test(size=(120, 40)) as pilot:
        screen = await open_files(pilot)
        await pilot.press("space", "down", "w")
        await wait(pilot, lambda: isinstance(files_app.screen, WipeModal))
        await pilot.press("w", "i", "p", "e", "enter")
        await wait(pilot, lambda: screen.wipes == 1 and len(rows(screen)) == 6)
        assert files_app.paused
        assert rows(screen)[1][:2] == ["prod/github", "logs"]
        assert not Path("telemetry/dev/search/traces.jsonl").exists()


async def test_a_scan_from_before_the_wipe_does_not_pass_for_its_result(
        files_app: TokentopApp) -> None:
    """While paused, only the scan that started after the wipe finished is shown: one
    already under way when the modal closed (the screen shown again rescans) still
    lists the wiped files and must wait like any other paused update."""
    from tokentop.tui.sources.files import InventoryScanned

    async with files_app.run_test(size=(120, 40)) as pilot:
        screen = await open_files(pilot)
        await pilot.press("space")
        shown = rows(screen)
        assert screen.feed is not None
        before = screen.feed.requests
        screen._after_wipe = before + 1  # the rescan a finished wipe is about to ask
        stale = InventoryScanned([], None, True, request=before)
        screen.post_message(stale)
        await wait(pilot, lambda: screen.pending is stale)
        assert rows(screen) == shown  # held back, not taken for the wipe's result
        assert screen.rescan() == before + 1
        await wait(pilot, lambda: screen._after_wipe is None)  # the real answer came
        assert screen.pending is None and rows(screen) == shown  # nothing was wiped


async def test_coming_back_to_the_screen_rescans(files_app: TokentopApp) -> None:
    async with files_app.run_test(size=(120, 40)) as pilot:
        screen = await open_files(pilot)
        await pilot.press("1")
        await wait(pilot, lambda: files_app.screen is not screen)
        for name in ("traces.jsonl", "traces-2026-04-28T00-00-00.000.jsonl.gz"):
            Path("telemetry/dev/search", name).unlink()
        await pilot.press("6")
        await wait(pilot, lambda: files_app.screen is screen and len(rows(screen)) == 6)
        assert rows(screen)[1][:2] == ["prod/github", "logs"]


async def test_skills_row_is_shown_and_wiped_as_gridctl_does(files_app: TokentopApp) -> None:
    """The ``__skills__`` directory (gridctl's ``PromptUsageNamespace``) is a row, marked
    as skill usage, and ``w`` deletes its file as gridctl's ``Wipe`` does."""
    before = on_disk()
    async with files_app.run_test(size=(120, 40)) as pilot:
        screen = await open_files(pilot)
        selected = screen.query_one(FilesTable).selected
        assert selected is not None and selected.is_skills
        cell = screen.query_one(FilesTable).get_row_at(0)[0]
        assert "italic" in str(cell.spans[0].style)
        detail = screen.query_one("#files-detail", Static)
        assert detail.border_title == "dev/__skills__ · metrics · skill usage, not a server"
        assert str(detail.content).split()[-1] == "dev/__skills__/metrics.jsonl"
        await pilot.press("w")
        await wait(pilot, lambda: isinstance(files_app.screen, WipeModal))
        modal = cast(WipeModal, files_app.screen)
        assert modal.plan.servers == ["dev/__skills__"]
        await pilot.press("w", "i", "p", "e", "enter")
        await wait(pilot, lambda: screen.wipes == 1 and len(rows(screen)) == 6)
        assert on_disk() == before - {"dev/__skills__/metrics.jsonl"}
        assert label(screen, "#files-message") == "wiped dev/__skills__ metrics: 1 file, 75 B"
