"""Pilot tests of the Overview's source switch (``s``): metrics files, usage store, both.

The usage store is the fixed one of ``conftest.usage_requests`` (NOW is 2026-05-05
12:30 UTC). Its messages near NOW, worked out by hand:

  12:10  mystery-x     200 tokens   no price (adds no cost)
  12:00  sonnet      1,500 tokens   $0.25
  11:00  gpt-5-codex 4,000 tokens   $0.75

so Live (12:01-12:30) holds only the 200 at 12:10, 1h (11:31-12:30) adds 12:00, and
24h (rolling: May 4 12:31 to May 5 12:30, in hourly buckets from May 4 12:00) has
4,000 at 11:00 and 1,700 at 12:00.
The assertions are on the data handed to the chart widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from conftest import NOW_MINUTE, USAGE_SONNET, Tree, settle, settle_overview
from textual.pilot import Pilot
from textual.widgets import Label

from tokentop.store.metrics import window
from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.model import IngestRequest
from tokentop.tui import format as fmt
from tokentop.tui.app import TokentopApp
from tokentop.tui.screens.help import KEYS
from tokentop.tui.screens.overview import OverviewScreen
from tokentop.tui.widgets.chart import ChartData, TimeChart
from tokentop.tui.widgets.kpi import KpiCard
from tokentop.tui.widgets.server_list import ServerList


def overview(app: TokentopApp) -> OverviewScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, OverviewScreen)
    return screen


def minute(hour: int, minute: int = 0) -> int:
    return int(datetime(2026, 5, 5, hour, minute, tzinfo=UTC).timestamp()) // 60


def chart(app: TokentopApp, chart_id: str) -> ChartData:
    return overview(app).query_one(chart_id, TimeChart).data


def labels(app: TokentopApp, chart_id: str) -> list[str]:
    return [s.label for s in chart(app, chart_id).series]


def plotted(app: TokentopApp, chart_id: str, label: str) -> dict[int, int]:
    """The non-zero buckets of one series, by bucket start minute."""
    data = chart(app, chart_id)
    (series,) = [s for s in data.series if s.label == label]
    assert len(series.values) == len(data.minutes)
    return {m: v for m, v in zip(data.minutes, series.values, strict=True) if v}


def cards(app: TokentopApp) -> list[tuple[str, str]]:
    return [(c.label, c.value) for c in overview(app).query(KpiCard)]


def message(app: TokentopApp) -> str:
    label = overview(app).query_one("#overview-message", Label)
    return str(label.render()) if label.display else ""


async def settle_series(pilot: Pilot[int], until: Callable[[], bool] | None = None) -> None:
    """Wait (bounded) until the Overview holds the usage series of its range."""
    app = cast(TokentopApp, pilot.app)
    screen = overview(app)
    for _ in range(500):
        loaded = screen.usage_series
        ready = (screen.data_source == "metrics" or app.usage_path is None
                 or screen.usage_error is not None
                 or (loaded is not None and loaded.range_name == screen.range_name))
        if ready and (until is None or until()):
            break
        await pilot.pause(0.01)
    else:  # pragma: no cover - a hang is a failure
        raise AssertionError("the usage series did not arrive")
    await pilot.pause()
    await pilot.pause()


async def test_s_cycles_sources_and_charts_plot_the_usage_store(
        usage_app: TokentopApp, tree: Tree) -> None:
    async with usage_app.run_test(size=(120, 40)) as pilot:
        await settle_overview(pilot)
        screen = overview(usage_app)
        assert screen.data_source == "metrics"
        assert labels(usage_app, "#tokens-chart") == ["input", "output"]
        assert usage_app.sources.usage.series_range is None  # nothing read that nobody shows

        await pilot.press("u")
        await settle_series(pilot)
        assert screen.data_source == "usage"
        assert usage_app.sources.usage.series_range == "30m"
        assert labels(usage_app, "#tokens-chart") == ["tokens (usage store)"]
        assert labels(usage_app, "#cost-chart") == ["cost (usage store)"]
        assert plotted(usage_app, "#tokens-chart", "tokens (usage store)") == {minute(12, 10): 200}
        assert plotted(usage_app, "#cost-chart", "cost (usage store)") == {}
        assert chart(usage_app, "#tokens-chart").minutes[-1] == NOW_MINUTE
        assert cards(usage_app) == [("Tokens", "200"), ("Cost", "$0.00"),
                                    ("Peak", "200/min"), ("Active", "1 of 30 min")]
        assert not screen.query_one(ServerList).display
        assert "usage store" in str(screen.query_one("#scope").render())

        await pilot.press("r")  # 1h
        await settle_series(pilot)
        assert plotted(usage_app, "#tokens-chart", "tokens (usage store)") == {
            minute(12, 0): 1500, minute(12, 10): 200}
        assert plotted(usage_app, "#cost-chart", "cost (usage store)") == {
            minute(12, 0): 250_000}
        assert cards(usage_app)[:2] == [("Tokens", "1.7k"), ("Cost", fmt.usd(250_000))]

        await pilot.press("r", "r")  # 24h: hourly buckets
        await settle_series(pilot)
        assert chart(usage_app, "#tokens-chart").interval == 60
        # Rolling: 12:31 yesterday to 12:30, 24 h in 25 hourly buckets (both partial).
        assert len(chart(usage_app, "#tokens-chart").minutes) == 25
        assert plotted(usage_app, "#tokens-chart", "tokens (usage store)") == {
            minute(11): 4000, minute(12): 1700}
        assert plotted(usage_app, "#cost-chart", "cost (usage store)") == {
            minute(11): 750_000, minute(12): 250_000}
        assert cards(usage_app) == [("Tokens", "5.7k"), ("Cost", "$1.00"),
                                    ("Peak", "4.0k/h"), ("Active", "2 of 24 h")]

        await pilot.press("u")  # both: the fleet and the usage store on one set of axes
        await settle_series(pilot)
        assert screen.data_source == "both"
        assert labels(usage_app, "#tokens-chart") == ["fleet", "usage store"]
        assert labels(usage_app, "#cost-chart") == ["fleet", "usage store"]
        win = window(usage_app.source.ring, "24h", NOW_MINUTE)
        inp, out, cost = tree.sums(win.start, win.end)
        tokens = chart(usage_app, "#tokens-chart")
        assert sum(tokens.series[0].values) == inp + out
        assert sum(chart(usage_app, "#cost-chart").series[0].values) == cost
        assert plotted(usage_app, "#tokens-chart", "usage store") == {
            minute(11): 4000, minute(12): 1700}
        assert cards(usage_app) == [("Fleet tokens", fmt.tokens(inp + out)),
                                    ("Fleet cost", fmt.usd(cost)),
                                    ("Usage tokens", "5.7k"), ("Usage cost", "$1.00")]
        assert screen.query_one(ServerList).display

        await pilot.press("u")  # back to the metrics files
        await pilot.pause()
        assert screen.data_source == "metrics"
        assert usage_app.sources.usage.series_range is None
        assert labels(usage_app, "#tokens-chart") == ["input", "output"]
        assert [label for label, _ in cards(usage_app)] == ["Input", "Output", "Total", "Cost"]


async def test_a_new_message_reaches_the_usage_chart(usage_app: TokentopApp) -> None:
    async with usage_app.run_test(size=(80, 24)) as pilot:
        await settle_overview(pilot)
        await pilot.press("u")
        await settle_series(pilot)
        with UsageStore.open(Path("usage.db")) as store:
            store.ingest([IngestRequest(
                source_system="claude_code", source_channel="jsonl",
                occurred_at=datetime(2026, 5, 5, 12, 29, tzinfo=UTC), message_id="m-new",
                session_id="s9", workspace_id="/home/u/app", provider_id="anthropic",
                agent_name="claude_code", model_raw=USAGE_SONNET, input_tokens=4300,
                cost_usd=1.5)])

        def arrived() -> bool:
            return minute(12, 29) in plotted(usage_app, "#tokens-chart", "tokens (usage store)")

        # The worker sees PRAGMA data_version move within half a second.
        await settle_series(pilot, arrived)
        assert plotted(usage_app, "#tokens-chart", "tokens (usage store)") == {
            minute(12, 10): 200, minute(12, 29): 4300}
        assert plotted(usage_app, "#cost-chart", "cost (usage store)") == {
            minute(12, 29): 1_500_000}


async def test_both_draws_the_picked_server_against_the_usage_store(
        usage_app: TokentopApp, tree: Tree) -> None:
    async with usage_app.run_test(size=(120, 40)) as pilot:
        await settle_overview(pilot)
        await pilot.press("down", "enter")  # prod/slack
        await pilot.click("#source-both")  # the source bar is clickable
        await settle_series(pilot)
        screen = overview(usage_app)
        assert (screen.data_source, screen.selected) == ("both", "prod/slack")
        assert labels(usage_app, "#tokens-chart") == ["prod/slack", "usage store"]
        win = window(usage_app.source.ring, "30m", NOW_MINUTE)
        inp, out, _ = tree.sums(win.start, win.end, "prod/slack")
        assert sum(chart(usage_app, "#tokens-chart").series[0].values) == inp + out
        assert cards(usage_app)[0] == ("Server tokens", fmt.tokens(inp + out))
        assert "prod/slack vs usage store" in str(screen.query_one("#scope").render())


async def test_without_a_usage_store_the_switch_says_so(app: TokentopApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await pilot.pause()
        assert overview(app).data_source == "usage"
        assert "no usage store" in message(app)
        assert chart(app, "#tokens-chart").series == []
        assert chart(app, "#tokens-chart").quiet == "no usage store"
        assert "no usage store" in str(
            overview(app).query_one("#tokens-chart", TimeChart).border_subtitle)
        await pilot.press("u")
        await pilot.pause()
        assert labels(app, "#tokens-chart") == ["fleet"]  # the metrics side still draws
        assert "no usage store" in message(app)
        await pilot.press("u")
        await pilot.pause()
        assert message(app) == ""


async def test_a_corrupt_store_shows_its_error_line(usage_app: TokentopApp,
                                                    tmp_path: Path) -> None:
    bad = tmp_path / "corrupt.db"
    bad.write_bytes(b"this is not a database at all\n" * 200)
    usage_app.usage_path = bad
    async with usage_app.run_test(size=(80, 24)) as pilot:
        await settle_overview(pilot)
        metrics_cards = cards(usage_app)
        await pilot.press("u")
        await settle_series(pilot, lambda: bool(message(usage_app)))
        assert "not a SQLite database" in message(usage_app)
        assert "\n" not in message(usage_app)
        assert chart(usage_app, "#tokens-chart").quiet == "usage store unreadable"
        await pilot.press("u", "u")
        await pilot.pause()
        assert message(usage_app) == ""
        assert cards(usage_app) == metrics_cards


async def test_paused_range_change_is_still_answered(usage_app: TokentopApp) -> None:
    """Pausing freezes the store's data, not the controls: a new range is still read."""
    async with usage_app.run_test(size=(80, 24)) as pilot:
        await settle_overview(pilot)
        await pilot.press("space", "u")
        await settle_series(pilot)
        assert plotted(usage_app, "#tokens-chart", "tokens (usage store)") == {minute(12, 10): 200}
        await pilot.press("r")
        await settle_series(pilot)
        assert plotted(usage_app, "#tokens-chart", "tokens (usage store)") == {
            minute(12, 0): 1500, minute(12, 10): 200}


def test_help_lists_the_source_key() -> None:
    assert any(key.split()[0] == "u" and "usage store" in what for key, what in KEYS)
