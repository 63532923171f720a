"""The Overview over a current gridctl's files: the tools panel, skills, and no cost.

The tree is ``metrics_files.current_gridctl_tree`` (tokens and ``tool_usage``, no
``cost_*``: gridctl removed its cost layer on 2026-08-07, commit 5245a795; a
``__skills__`` writer). The usage store is conftest's (NOW 2026-05-05 12:30 UTC): in
Live (12:01-12:30) its only message has no price, so $0.00; in 1h it adds $0.25 at
12:00. Assertions are on what the widgets were handed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import fixed_clock, settle, settle_overview, write_usage_store
from metrics_files import current_gridctl_tree
from test_overview_source import (
    cards,
    chart,
    labels,
    minute,
    overview,
    plotted,
    settle_series,
)
from textual.widgets import Static

from tokentop.store.metrics import MetricsSource
from tokentop.tui import format as fmt
from tokentop.tui.app import TokentopApp
from tokentop.tui.widgets.tool_panel import ToolPanel


@pytest.fixture
def current(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    current_gridctl_tree(tmp_path / "telemetry")
    return tmp_path


def current_app(usage: bool = False) -> TokentopApp:
    usage_path = write_usage_store(Path("usage.db")) if usage else None
    return TokentopApp(MetricsSource("telemetry", clock=fixed_clock), clock=fixed_clock,
                       follow=False, usage_path=usage_path)


def panel_lines(app: TokentopApp) -> list[list[str]]:
    static = overview(app).query_one(ToolPanel).query_one("#tool-lines", Static)
    return [line.split() for line in str(static.render()).splitlines()]


async def test_tools_panel_lists_tools_by_tokens_then_skills(current: Path) -> None:
    app = current_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        lines = panel_lines(app)
        assert lines[0] == ["tool", "calls", "tokens", "last"]
        # Cumulative tool_usage, busiest first; the owner after the name in the fleet.
        assert lines[1] == ["read_file", "filesystem", "30", fmt.tokens(25_335), "2m"]
        assert lines[2] == ["search_code", "github", "20", fmt.tokens(9_350), "2m"]
        assert lines[3] == ["create_issue", "github", "10", "4.0k", "2m"]
        assert lines[4] == ["list_pull_requests", "github", "1", "0", "1m"]
        assert lines[6] == ["skills", "(2)", "calls", "last"]
        assert lines[7:] == [["code-review", "3", "10m"], ["release-notes", "1", "25m"]]
        assert overview(app).query_one(ToolPanel).border_title == "Tools (4)"

        await pilot.press("down", "enter")  # prod/github: its tools only, bare names
        await settle(pilot)
        assert overview(app).selected == "prod/github"
        names = [line[0] for line in panel_lines(app)[1:4]]
        assert names == ["search_code", "create_issue", "list_pull_requests"]


async def test_tool_only_line_is_no_activity_on_screen(current: Path) -> None:
    """The github line at 12:29 only moved tool_usage: no point at 12:29."""
    app = current_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        points = plotted(app, "#tokens-chart", "input")
        assert minute(12, 29) not in points
        assert max(points) == minute(12, 27)


async def test_no_cost_in_files_says_so(current: Path) -> None:
    app = current_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert cards(app)[3] == ("Cost", "not in files")
        assert chart(app, "#cost-chart").series == []
        assert chart(app, "#cost-chart").quiet == "no cost in gridctl files"


async def test_no_cost_in_files_takes_the_usage_store_cost(current: Path) -> None:
    app = current_app(usage=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_overview(pilot)
        await settle_series(pilot, lambda: overview(app).usage_series is not None)
        await pilot.pause()
        assert overview(app).data_source == "metrics" and overview(app).cost_from_usage
        assert app.sources.usage.series_range == "30m"
        assert cards(app)[3] == ("Cost (usage)", "$0.00")
        assert labels(app, "#cost-chart") == ["cost (usage store)"]

        await pilot.press("r")  # 1h: the usage store's $0.25 at 12:00
        screen = overview(app)
        for _ in range(500):
            loaded = screen.usage_series
            if loaded is not None and loaded.range_name == "1h":
                break
            await pilot.pause(0.01)
        await pilot.pause()
        assert cards(app)[3] == ("Cost (usage)", fmt.usd(250_000))
        assert plotted(app, "#cost-chart", "cost (usage store)") == {minute(12, 0): 250_000}

        await pilot.press("enter")  # one server: the usage store has no servers
        await pilot.pause()
        assert screen.selected is not None
        assert cards(app)[3] == ("Cost", "not in files")
        assert app.sources.usage.series_range is None


async def test_files_with_cost_keep_their_cost(tree: object, app: TokentopApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        label, value = cards(app)[3]
        assert label == "Cost" and value.startswith("$")
        assert labels(app, "#cost-chart") == ["cost (USD)"]


async def test_both_sources_without_gridctl_cost(current: Path) -> None:
    """Fleet against the usage store: the fleet's cost is unknown, not $0."""
    app = current_app(usage=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_overview(pilot)
        await pilot.press("u", "u")
        await settle_series(pilot)
        assert overview(app).data_source == "both"
        assert cards(app)[1] == ("Fleet cost", "not in files")
        assert labels(app, "#cost-chart") == ["usage store"]


async def test_panel_names_are_text_not_markup(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from tokentop.tui.demo.gridctl import NS, GridctlWriter, Tokens

    monkeypatch.chdir(tmp_path)
    GridctlWriter(tmp_path / "telemetry").server("prod", "github", cost=False).flush(
        1_777_982_400 * NS, Tokens(5, 5),
        tools={"[bold red]x[/]": (1, 5, 5), "\x1b[2Jwipe": (1, 1, 1)})
    app = current_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        names = [line[0] for line in panel_lines(app)[1:3]]
        assert names == ["[bold", "\\x1b[2Jwipe"]  # literal brackets, escaped ESC
        static = overview(app).query_one(ToolPanel).query_one("#tool-lines", Static)
        assert "[bold red]x[/]" in str(static.render())
