"""Issue 17's wishes for the Traces screen: errors only (4xx/5xx), free-text search over
the list, a filter value picked from a list, and the list sorted by latency, cost or
tokens with the sort key visible. Expected rows come from plain SQL on the same file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import NOW
from test_traces_screen import open_traces, traces_app, wait_for
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label, OptionList

from tokentop.tui.demo.traces import DemoTraces, build_demo_traces
from tokentop.tui.screens.traces import PAGE_SIZE, TracesScreen
from tokentop.tui.widgets.trace_picker import FilterPicker


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTraces]:
    root: Path = tmp_path_factory.mktemp("wishes") / "gw"
    demo = build_demo_traces(seed=7, now=NOW, root=root, count=1200)
    yield demo
    demo.stop()


def sql_ids(path: Path, where: str, *args: object) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(f"SELECT id FROM traces WHERE {where} ORDER BY created_at DESC, "
                            "id DESC LIMIT ?", (*args, PAGE_SIZE)).fetchall()
    finally:
        conn.close()
    return [r[0] for r in rows]


def sql_sorted(path: Path, column: str) -> list[str]:
    """The first page by ``column``, largest first, unknown values last, ties by id."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(f"SELECT id FROM traces ORDER BY ({column} IS NULL), {column} "
                            "DESC, id DESC LIMIT ?", (PAGE_SIZE,)).fetchall()
    finally:
        conn.close()
    return [r[0] for r in rows]


def filters_line(screen: TracesScreen) -> str:
    return str(screen.query_one("#traces-filters", Label).render())


async def reload(pilot: Pilot[int], screen: TracesScreen, *keys: str) -> None:
    loaded = screen.pages_loaded
    for key in keys:
        await pilot.press(key)
    await wait_for(pilot, lambda: screen.pages_loaded > loaded, "the page")
    await pilot.pause()


async def test_errors_only(store: DemoTraces) -> None:
    app = traces_app(store.path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_traces(pilot)
        await reload(pilot, screen, "e")
        expected = sql_ids(store.path, "response_status >= 400")
        assert expected and [r.id for r in screen.rows] == expected
        line = filters_line(screen)
        assert "errors only" in line and "cards: no status/search" in line
        await reload(pilot, screen, "e")
        assert "errors only" not in filters_line(screen)


async def test_search_box_one_row_typed_text_visible(store: DemoTraces) -> None:
    app = traces_app(store.path)
    async with app.run_test(size=(60, 20)) as pilot:
        screen = await open_traces(pilot)
        await pilot.press("slash")
        box = screen.query_one("#traces-search", Input)
        assert box.display and box.has_focus
        await pilot.press(*"GEMINI")
        await pilot.pause()
        assert box.size.height == 1 and "GEMINI" in str(box.render_line(0).text)
        await reload(pilot, screen, "enter")
        expected = sql_ids(store.path, "LOWER(model) LIKE '%gemini%' OR LOWER(provider) "
                           "LIKE '%gemini%' OR LOWER(request_path) LIKE '%gemini%' OR "
                           "LOWER(id) LIKE '%gemini%' OR LOWER(IFNULL(gateway_key_id, '')) "
                           "LIKE '%gemini%' OR LOWER(IFNULL(trace_group_id, '')) "
                           "LIKE '%gemini%'")
        assert expected and [r.id for r in screen.rows] == expected
        assert not box.display and "“GEMINI”" in filters_line(screen)
        await pilot.press("slash", *"zzz", "escape")  # esc: put away, unapplied
        await pilot.pause()
        assert not box.display and screen.search == "GEMINI"
        await reload(pilot, screen, "x")  # clear every filter
        assert screen.search is None and len(screen.rows) == PAGE_SIZE


async def test_pick_a_model_from_the_list(store: DemoTraces) -> None:
    app = traces_app(store.path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_traces(pilot)
        await pilot.press("p")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, FilterPicker)
        await pilot.press(*"haiku")
        await pilot.pause()
        options = picker.query_one("#picker-list", OptionList)
        assert options.option_count >= 1
        assert all(c.kind == "model" and "haiku" in c.label for c in picker.shown)
        chosen = picker.shown[0].label
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen and screen.model == chosen
                       and bool(screen.rows) and all(r.model == chosen for r in screen.rows),
                       "the picked model's traces")
        assert [r.id for r in screen.rows] == sql_ids(store.path, "model = ?", chosen)
        await pilot.press("p")
        await pilot.pause()
        await pilot.press("escape")  # closes, nothing changes
        await pilot.pause()
        assert app.screen is screen and screen.model == chosen


@pytest.mark.parametrize(("presses", "key", "column"), [
    (1, "latency_ms", "latency"), (2, "estimated_cost_usd", "cost"),
    (3, "total_tokens", "tokens")])
@pytest.mark.parametrize("size", [(60, 20), (80, 24)])
async def test_sort_by_a_column_with_the_key_shown(store: DemoTraces, presses: int, key: str,
                                                   column: str, size: tuple[int, int]) -> None:
    app = traces_app(store.path)
    async with app.run_test(size=size) as pilot:
        screen = await open_traces(pilot)
        newest = [r.id for r in screen.rows]
        header = screen.query_one("#traces-table", DataTable).columns
        assert str(header["time"].label).endswith("▼")  # newest first, marked
        await reload(pilot, screen, *["o"] * presses)
        values = [getattr(r, key) for r in screen.rows]
        known = [v for v in values if v is not None]
        assert known == sorted(known, reverse=True)
        assert values[len(known):] == [None] * (len(values) - len(known))  # unknown last
        # The store's first page of that order, not this page reordered.
        assert [r.id for r in screen.rows] == sql_sorted(store.path, key)
        columns = screen.query_one("#traces-table", DataTable).columns
        assert str(columns[column].label).endswith("▼")
        assert not str(columns["time"].label).endswith("▼")
        assert f"sort {column}▼" in filters_line(screen)
        table = screen.query_one("#traces-table", DataTable)
        assert str(table.get_row_at(0)[0]) != "" and table.row_count == len(screen.rows)
        # The marked column is a cell wider: the table still fits (nothing scrolled away).
        assert table.virtual_size.width <= table.scrollable_content_region.width
        await reload(pilot, screen, *["o"] * (4 - presses))
        assert [r.id for r in screen.rows] == newest


@pytest.mark.parametrize("size", [(110, 30), (120, 40), (200, 60)])
async def test_detail_beside_the_table_keeps_every_number_whole(
        store: DemoTraces, size: tuple[int, int]) -> None:
    """With the detail pane open beside it, the table gets narrower columns (no column
    scrolled off, so no number cut at the edge), and the cursor stays on the trace."""
    app = traces_app(store.path)
    async with app.run_test(size=size) as pilot:
        screen = await open_traces(pilot)
        table = screen.query_one("#traces-table", DataTable)
        await pilot.press("down", "down", "enter")
        await wait_for(pilot, lambda: screen.detail is not None, "the detail")
        await pilot.pause()
        await pilot.pause()
        assert table.virtual_size.width <= table.scrollable_content_region.width
        assert screen.rows[table.cursor_row].id == screen.detail.id
        await pilot.press("escape")
        await pilot.pause()
        await pilot.pause()
        assert table.virtual_size.width <= table.scrollable_content_region.width
        assert table.cursor_row == 2


@pytest.mark.parametrize("size", [(60, 20), (80, 24)])
async def test_scope_line_keeps_the_window_whole(store: DemoTraces,
                                                 size: tuple[int, int]) -> None:
    """The top line names the cards' window whole (never ``last 4…``), with a long
    model chosen, in the list and in the analytics."""
    app = traces_app(store.path)
    async with app.run_test(size=size) as pilot:
        screen = await open_traces(pilot)
        await reload(pilot, screen, "m", "m", "m", "m", "m", "m", "m")
        for _ in range(2):
            await pilot.pause()
            scope = screen.query_one("#traces-scope", Label)
            text = str(scope.render())
            assert text.endswith("last 48 hours"), text
            assert len(text) <= scope.content_size.width
            await pilot.press("v")
            await pilot.pause()
