"""``o`` cycles the sort column, ``O`` reverses it: the shared state and every table.

Pilot tests on fixed data (the fixed telemetry tree, the fixed usage store, the Files
screen's fixed tree) press the keys and read the rows in the order shown, and the header
that marks the sort key. The Traces list is sorted by the store, across pages: here on
the demo gateway's real SQLite file, and every order on both backends in
tests/traces/test_trace_sort.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from conftest import NOW, make_app, settle, settle_usage
from gridctl.files_tree import screen_tree
from test_traces_screen import open_traces, traces_app
from test_traces_wishes import reload
from textual.pilot import Pilot
from textual.widgets import DataTable, Label

from tokentop.tui.app import TokentopApp
from tokentop.tui.demo.traces import DemoTraces, build_demo_traces
from tokentop.tui.screens.files import FilesScreen
from tokentop.tui.screens.traces import PAGE_SIZE
from tokentop.tui.screens.usage import UsageScreen
from tokentop.tui.widgets.breakdown import BreakdownTable
from tokentop.tui.widgets.files_table import FilesTable
from tokentop.tui.widgets.server_list import ServerList
from tokentop.tui.widgets.session_table import SessionTable
from tokentop.tui.widgets.sorting import SortKey, SortState

# -- the shared state ----------------------------------------------------------------------

KEYS: tuple[SortKey[tuple[str, int | None]], ...] = (
    SortKey("given", "arrival"),
    SortKey("name", "name", lambda r: r[0], descending=False),
    SortKey("n", "n", lambda r: r[1]),
)
ROWS = [("b", 2), ("a", None), ("c", 5), ("d", 2)]


def test_default_is_the_given_order_and_O_reverses_it() -> None:
    state = SortState(KEYS)
    assert state.apply(ROWS) == ROWS and state.arrow == "▼"
    state.reverse()
    assert state.apply(ROWS) == ROWS[::-1] and state.arrow == "▲"


def test_cycle_starts_each_key_in_its_natural_direction() -> None:
    state = SortState(KEYS)
    state.reverse()
    state.cycle()
    assert [r[0] for r in state.apply(ROWS)] == ["a", "b", "c", "d"]
    assert state.describe() == "sorted by name ▲"
    state.cycle()
    # Largest first, ties in arrival order, no value last.
    assert state.apply(ROWS) == [("c", 5), ("b", 2), ("d", 2), ("a", None)]
    state.reverse()  # smallest first, ties still in arrival order, no value still last
    assert state.apply(ROWS) == [("b", 2), ("d", 2), ("c", 5), ("a", None)]
    assert state.header("N", "n").plain == "N▲" and state.header("X", "name").plain == "X"
    state.cycle()
    assert state.is_default


def test_cycle_skips_columns_not_shown() -> None:
    state = SortState(KEYS)
    state.cycle({"given", "n"})
    assert state.key.column == "n"


# -- the Overview's servers ----------------------------------------------------------------

def servers(app: TokentopApp) -> ServerList:
    return app.screen_stack[0].query_one(ServerList)


def header(app: TokentopApp) -> str:
    return str(servers(app).query_one("#server-header").render())


async def test_overview_servers_sort(app: TokentopApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        given = [r.name for r in servers(app).rows]
        assert len(given) >= 3
        assert "Live▼" in header(app)  # the default: most tokens in the range first
        await pilot.press("o")
        assert [r.name for r in servers(app).rows] == sorted(given, key=str.casefold)
        assert "server▲" in header(app)
        await pilot.press("O")
        assert [r.name for r in servers(app).rows] == sorted(given, key=str.casefold)[::-1]
        assert "server▼" in header(app)
        await pilot.press("o")  # total tokens, largest first
        totals = [r.total_tokens for r in servers(app).rows]
        assert totals == sorted(totals, reverse=True) and "total▼" in header(app)
        for _ in range(2):  # cost, then back to the default
            await pilot.press("o")
        assert [r.name for r in servers(app).rows] == given and "Live▼" in header(app)


async def test_overview_sort_keeps_the_cursor_on_its_server(app: TokentopApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        options = servers(app).options
        options.highlighted = 0
        first = servers(app).rows[0].name
        await pilot.press("O")
        names = [r.name for r in servers(app).rows]
        assert names[-1] == first and options.highlighted == len(names) - 1


# -- Usage: breakdowns and sessions -----------------------------------------------------------

def usage(app: TokentopApp) -> UsageScreen:
    screen = app.screen
    assert isinstance(screen, UsageScreen)
    return screen


def headers(table: DataTable[object]) -> list[str]:
    return [str(c.label) for c in table.columns.values()]


async def test_usage_models_sort(usage_app: TokentopApp) -> None:
    async with usage_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle_usage(pilot)
        table = usage(usage_app).query_one("#breakdown", BreakdownTable)

        def keys() -> list[str]:
            return [r.key for r in table.rows_shown]

        # The 1d window (conftest): codex 4,000 tokens $0.75, sonnet 1,500 $0.25,
        # mystery-x 200 tokens and no price.
        assert keys() == ["gpt-5-codex", "claude-sonnet-4-5-20250929", "mystery-x"]
        assert "Tokens▼" in headers(table)
        await pilot.press("o")
        assert keys() == ["claude-sonnet-4-5-20250929", "gpt-5-codex", "mystery-x"]
        assert "Model▲" in headers(table)
        await pilot.press("o")
        assert keys() == ["gpt-5-codex", "claude-sonnet-4-5-20250929", "mystery-x"]
        assert "Cost▼" in headers(table)
        await pilot.press("O")  # cheapest first; the unpriced row stays last
        assert keys() == ["claude-sonnet-4-5-20250929", "gpt-5-codex", "mystery-x"]
        assert "Cost▲" in headers(table)
        # The lower table keeps its own order.
        lower = usage(usage_app).query_one("#breakdown2", BreakdownTable)
        assert all("▲" not in h for h in headers(lower))


async def test_usage_sessions_sort(usage_app: TokentopApp) -> None:
    async with usage_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle_usage(pilot)
        screen = usage(usage_app)
        screen.breakdown = "session"
        table = screen.query_one("#sessions", SessionTable)
        await settle_usage(pilot, lambda: bool(table.rows_shown))

        def ids() -> list[str]:
            return [r.session_id for r in table.rows_shown]

        latest = ids()
        assert "Last▼" in headers(table)
        await pilot.press("O")
        assert ids() == latest[::-1] and "Last▲" in headers(table)
        await pilot.press("o")
        assert ids() == sorted(latest) and "Session▲" in headers(table)
        await pilot.press("o")  # tokens, largest first: s2 (4,000) before s1 (1,700)
        assert ids()[:2] == ["s2", "s1"] and "Tokens▼" in headers(table)


# -- Files --------------------------------------------------------------------------------

@pytest.fixture
def files_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TokentopApp:
    monkeypatch.chdir(tmp_path)
    screen_tree(Path("telemetry"))
    return make_app("telemetry")


async def open_files(pilot: Pilot[int]) -> FilesScreen:
    await pilot.press("6")
    app = cast(TokentopApp, pilot.app)
    for _ in range(1000):
        if isinstance(app.screen, FilesScreen) and app.screen.scans > 0:
            break
        await pilot.pause(0.01)
    await pilot.pause()
    return cast(FilesScreen, app.screen)


async def test_files_sort(files_app: TokentopApp) -> None:
    async with files_app.run_test(size=(120, 40)) as pilot:
        screen = await open_files(pilot)
        table = screen.query_one(FilesTable)

        def shown() -> list[tuple[str, str]]:
            return [(r.server, r.signal) for r in table.records]

        given = shown()
        assert "Server▲" in "".join(headers(table))
        table.move_cursor(row=0)
        first = table.selected
        await pilot.press("o")  # size, largest first: prod/github's 2.5 MB traces file
        assert shown()[0] == ("prod/github", "traces")
        sizes = [r.size_bytes for r in table.records]
        assert sizes == sorted(sizes, reverse=True) and "Size▼" in "".join(headers(table))
        assert table.selected == first  # the cursor stays on its row
        await pilot.press("O")
        assert [r.size_bytes for r in table.records] == sorted(sizes)
        assert shown()[0] == ("prod/slack", "logs")  # the zero-byte file
        for _ in range(4):  # files, span, last write, then the inventory's order again
            await pilot.press("o")
        assert shown() == given and "Server▲" in "".join(headers(table))


# -- Traces: the store sorts, every page --------------------------------------------------

@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTraces]:
    demo = build_demo_traces(seed=7, now=NOW, root=tmp_path_factory.mktemp("sort") / "gw",
                             count=300)
    yield demo
    demo.stop()


async def test_traces_sort_runs_across_pages(gateway: DemoTraces) -> None:
    app = traces_app(gateway.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_traces(pilot)
        table = screen.query_one("#traces-table", DataTable)
        await reload(pilot, screen, "o")  # latency, slowest first
        first = [r.latency_ms for r in screen.rows]
        await reload(pilot, screen, "]")
        second = [r.latency_ms for r in screen.rows]
        known = [v for v in first + second if v is not None]
        assert known == sorted(known, reverse=True) and len(known) > PAGE_SIZE
        assert str(table.columns["latency"].label).endswith("▼")
        await reload(pilot, screen, "O")  # fastest first, from the first page again
        assert len(screen.cursors) == 1
        fastest = [r.latency_ms for r in screen.rows if r.latency_ms is not None]
        assert fastest == sorted(fastest) and fastest[0] <= min(known)
        assert str(table.columns["latency"].label).endswith("▲")
        line = str(screen.query_one("#traces-filters", Label).render())
        assert "sort latency▲" in line and "this page" not in line
        for _ in range(3):  # cost, tokens, then newest first (each key starts descending)
            await reload(pilot, screen, "o")
        await reload(pilot, screen, "O")
        times = [r.created_at for r in screen.rows]
        assert times == sorted(times) and "sort oldest▲" in str(
            screen.query_one("#traces-filters", Label).render())
