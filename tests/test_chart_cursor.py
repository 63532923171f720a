"""The chart cursor and scrolling back in time (issue 17: "a cursor on charts that reads a
bucket's exact value; scroll back in time past the range").

Pilot tests on the fixed tree (tests/conftest.py, fixed clock 2026-05-05 12:30 UTC): the
readout's numbers are checked against the lines written (``Tree.sums``, computed from the
formula, not by the code under test) and the ring; ``<`` then ``>`` comes back to now;
a window before the ring's history says so instead of drawing zeros. The Overview's
usage-store source is re-read for the scrolled window in its worker.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import cast

import pytest
from conftest import NOW, NOW_MINUTE, Tree, run_before, settle, settle_overview
from rich.text import Text
from test_traces_screen import open_traces, traces_app, wait_for
from textual.pilot import Pilot

from tokentop.tui import format as fmt
from tokentop.tui.app import TokentopApp
from tokentop.tui.screens.overview import OverviewScreen
from tokentop.tui.widgets.chart import TimeChart
from tokentop.tui.widgets.chart_cursor import Reading, readout, scroll_label, whole

SIZE = (80, 24)
DAY = 1440
MAY_1 = NOW_MINUTE - 4 * DAY - 750  # 2026-05-01 00:00 UTC: the tree's oldest line


def overview(app: TokentopApp) -> OverviewScreen:
    return cast(OverviewScreen, app.screen_stack[0])


def charts(app: TokentopApp) -> tuple[TimeChart, TimeChart]:
    screen = overview(app)
    return (screen.query_one("#tokens-chart", TimeChart),
            screen.query_one("#cost-chart", TimeChart))


def subtitle(chart: TimeChart) -> str:
    sub = chart.border_subtitle  # Textual keeps it as markup
    return sub.plain if isinstance(sub, Text) else Text.from_markup(str(sub)).plain


def card(app: TokentopApp, wid: str) -> str:
    from tokentop.tui.widgets.kpi import KpiCard

    return overview(app).query_one(wid, KpiCard).value


# -- the readout's words -------------------------------------------------------------
def test_readout_is_exact_and_gives_way_without_cutting_a_number() -> None:
    r = [Reading("input", "#ff0000", 1_234_567), Reading("output", "#00ff00", 89_012)]
    wide = readout(NOW_MINUTE - 5, 5, r, whole, NOW_MINUTE, width=200).plain
    assert wide == "▏12:25 (5 min)  ━ input 1,234,567  ━ output 89,012"
    assert readout(NOW_MINUTE - 5, 5, r, whole, NOW_MINUTE, width=30).plain == \
        "▏12:25 ━ 1,234,567 ━ 89,012"
    assert readout(NOW_MINUTE - 5, 5, r, whole, NOW_MINUTE, width=21).plain == \
        "▏12:25 ━ 1.2M ━ 89.0k"  # the cards' abbreviations, never a cut number
    assert readout(NOW_MINUTE - 5, 5, r, whole, NOW_MINUTE, width=16).plain == \
        "━ 1.2M ━ 89.0k"  # the marker on the chart says when
    other_day = readout(NOW_MINUTE - DAY, 60, r[:1], whole, NOW_MINUTE, width=200).plain
    assert other_day.startswith("▏2026-05-04 12:30 (1 h)")  # ISO date when not today


def test_scroll_label_shortens_by_words() -> None:
    end = NOW_MINUTE - DAY
    assert scroll_label(end, 80).plain == "ending 2026-05-04 12:30 (scrolled back; > to return)"
    assert scroll_label(end, 40).plain == "ending 2026-05-04 12:30 (> to return)"
    assert scroll_label(end, 20).plain == "2026-05-04 12:30"


# -- the cursor on the Overview ------------------------------------------------------
async def test_cursor_reads_the_bucket_exactly(app: TokentopApp, tree: Tree) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tokens, cost = charts(app)
        assert tokens.cursor is None
        await pilot.press("full_stop")
        # 12:30:00 is the open minute: the first press is on the last complete one
        assert tokens.cursor == cost.cursor == NOW_MINUTE - 1
        inp, out, micro = tree.sums(NOW_MINUTE - 1, NOW_MINUTE - 1)
        assert inp and out and micro
        ring = app.source.ring.buckets(None, NOW_MINUTE - 1, NOW_MINUTE - 1)[0]
        assert (ring.input_tokens, ring.output_tokens, ring.cost_micro_usd) == (inp, out, micro)
        assert [r.value for r in tokens.reading()] == [inp, out]
        assert [r.value for r in cost.reading()] == [micro]
        # at 80 columns the span gives way; every value stays whole
        assert subtitle(tokens) == f"▏12:29 ━ input {inp:,} ━ output {out:,}"
        assert fmt.usd(micro) in subtitle(cost)
        await pilot.press("comma", "comma")
        inp2, out2, _ = tree.sums(NOW_MINUTE - 3, NOW_MINUTE - 3)
        assert tokens.cursor == NOW_MINUTE - 3
        assert [r.value for r in tokens.reading()] == [inp2, out2]
        assert subtitle(tokens) == f"▏12:27 ━ input {inp2:,} ━ output {out2:,}"
        await pilot.press("escape")
        assert tokens.cursor is None and cost.cursor is None
        assert "input" in subtitle(tokens)  # the legend is back


async def test_cursor_on_merged_hours_reads_the_hour(app: TokentopApp, tree: Tree) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r", "r", "r")  # 24h: hourly buckets
        await settle(pilot)
        await pilot.press("full_stop", "comma")
        tokens, _ = charts(app)
        hour = NOW_MINUTE - NOW_MINUTE % 60 - 120  # 10:00, one before the last whole hour
        assert tokens.cursor == hour
        inp, out, _ = tree.sums(hour, hour + 59)
        assert [r.value for r in tokens.reading()] == [inp, out]
        assert f"{inp:,}" in subtitle(tokens) or fmt.tokens(inp) in subtitle(tokens)


# -- scrolling back --------------------------------------------------------------------
async def test_scroll_back_and_return(app: TokentopApp, tree: Tree) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r", "r", "r")  # 24h
        await settle(pilot)
        live_total = card(app, "#kpi-total")
        await pilot.press("less_than_sign")
        await settle(pilot)
        screen = overview(app)
        assert screen.chart_end == NOW_MINUTE - DAY
        tokens, cost = charts(app)
        assert tokens.data.ending == NOW_MINUTE - DAY and cost.data.ending is None
        # the cards follow the window shown: the 24 h before the last 24 h
        inp, out, _ = tree.sums(NOW_MINUTE - 2 * DAY + 1, NOW_MINUTE - DAY)
        assert card(app, "#kpi-total") == fmt.tokens(inp + out) != live_total
        await pilot.press("greater_than_sign")
        await settle(pilot)
        assert screen.chart_end is None and tokens.data.ending is None
        assert card(app, "#kpi-total") == live_total
        await pilot.press("greater_than_sign")  # never past now
        assert screen.chart_end is None


async def test_scrolling_past_the_history_says_so(app: TokentopApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r", "r", "r", "r")  # 7d: the tree starts on May 1
        await settle(pilot)
        assert app.source.ring.oldest_minute() == MAY_1
        await pilot.press("less_than_sign")
        await settle(pilot)
        screen = overview(app)
        tokens, cost = charts(app)
        assert screen.chart_end == NOW_MINUTE - 7 * DAY
        note = "no data before 2026-05-01 00:00"
        assert tokens.data.note == cost.data.note == note and not tokens.data.series
        assert note in str(tokens.render()) or note in subtitle(tokens)
        await pilot.press("less_than_sign")  # nothing older to show: it stops here
        await settle(pilot)
        assert screen.chart_end == NOW_MINUTE - 7 * DAY


async def test_a_partly_known_window_starts_at_the_history(app: TokentopApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r", "r", "r")  # 24h
        await settle(pilot)
        await pilot.press(*["less_than_sign"] * 4)  # ends May 1 12:30
        await settle(pilot)
        tokens, _ = charts(app)
        assert overview(app).chart_end == NOW_MINUTE - 4 * DAY
        assert tokens.data.minutes[0] == MAY_1  # not the zeros of April 30
        assert tokens.data.series


# -- the usage store, re-read for the scrolled window ----------------------------------
async def test_usage_series_is_read_again_for_the_earlier_span(
        usage_app: TokentopApp) -> None:
    app = usage_app
    async with app.run_test(size=SIZE) as pilot:
        await settle_overview(pilot)
        await pilot.press("u", "r", "r", "r")  # the usage store alone, 24h
        screen = overview(app)
        await pilot.press("less_than_sign", "less_than_sign")  # ends May 3 12:30
        want = NOW_MINUTE - 2 * DAY
        for _ in range(1000):
            loaded = screen.usage_series
            if loaded is not None and loaded.ending == want and \
                    loaded.range_name == "24h" and card(app, "#kpi-input") != "–":
                break
            await pilot.pause(0.01)
        else:  # pragma: no cover
            raise AssertionError("the usage series was not read for the earlier span")
        await pilot.pause()
        # one message in that window: 20,000 tokens, $2.00 on May 3 at 10:00
        assert card(app, "#kpi-input") == fmt.tokens(20_000)
        assert card(app, "#kpi-output") == fmt.usd(2_000_000)
        tokens, _ = charts(app)
        assert tokens.data.ending == want
        await pilot.press("full_stop", *["comma"] * 2)  # 12:00 (last whole), 11:00, 10:00
        assert fmt.local_stamp(cast(int, tokens.cursor)) == "2026-05-03 10:00"
        assert [r.value for r in tokens.reading()] == [20_000]
        assert "20,000" in subtitle(tokens)


# -- snapshots -----------------------------------------------------------------------
async def _cursor(pilot: Pilot[int]) -> None:
    await pilot.press("full_stop", "comma", "comma")


async def _scrolled(pilot: Pilot[int]) -> None:
    await pilot.press("r", "r", "r", "less_than_sign")


@pytest.mark.parametrize("keys", [pytest.param(_cursor, id="cursor"),
                                  pytest.param(_scrolled, id="scrolled")])
def test_snapshot(snap_compare, app: TokentopApp, keys) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before(keys))


# -- the Access screen's chart ---------------------------------------------------------
async def test_access_chart_cursor_and_scroll(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from test_access_screen import access_app, open_access, write

    p = tmp_path / "access.jsonl"
    write(p)
    app = access_app(p)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_access(pilot)
        assert screen.snap is not None
        saved = {m.minute: m.tokens_saved for m in screen.snap.per_minute}
        chart = screen.query_one("#access-chart", TimeChart)
        await pilot.press("full_stop")
        assert chart.cursor == NOW_MINUTE - 1  # the open minute is not the first stop
        busiest = max(saved, key=lambda m: saved[m])
        await pilot.press(*["comma"] * (NOW_MINUTE - 1 - busiest))
        assert chart.cursor == busiest
        assert [r.value for r in chart.reading()] == [saved[busiest]]
        assert f"{saved[busiest]:,}" in subtitle(chart)
        await pilot.press("escape")
        assert chart.cursor is None
        # The hour before holds nothing the summary knows of: said, not drawn as zero.
        await pilot.press("less_than_sign")
        assert screen.chart_end == NOW_MINUTE - 60
        first = min(saved)
        assert chart.data.note == f"no data before {fmt.local_stamp(first)}"
        assert "scrolled back" in str(chart.border_title)
        await pilot.press("less_than_sign")  # and no further
        assert screen.chart_end == NOW_MINUTE - 60
        await pilot.press("greater_than_sign")
        assert screen.chart_end is None and chart.data.ending is None
        assert "last hour" in str(chart.border_title)


# -- the Traces analytics' charts --------------------------------------------------------
async def test_traces_chart_cursor_and_scroll(tmp_path: Path) -> None:
    import sqlite3
    from datetime import UTC, datetime, timedelta

    from tokentop.tui.demo.traces import build_demo_traces, gateway_time
    from tokentop.tui.widgets.kpi import KpiCard

    demo = build_demo_traces(seed=7, now=NOW, root=tmp_path / "gw", count=600)

    def sql(query: str, *args: object) -> tuple[int, ...]:
        conn = sqlite3.connect(demo.path)
        try:
            return tuple(int(v or 0) for v in conn.execute(query, args).fetchone())
        finally:
            conn.close()

    try:
        app = traces_app(demo.path)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_traces(pilot)
            await pilot.press("v")
            await pilot.pause()
            chart = screen.query_one("#traces-tokens-chart", TimeChart)
            await pilot.press("full_stop")
            hour = datetime(2026, 5, 5, 11, 0, tzinfo=UTC)  # the last whole hour
            assert chart.cursor == int(hour.timestamp()) // 60
            inp, out = sql("SELECT SUM(input_tokens), SUM(output_tokens) FROM traces "
                           "WHERE timestamp >= ? AND timestamp < ?", gateway_time(hour),
                           gateway_time(hour + timedelta(hours=1)))
            assert inp and [r.value for r in chart.reading()] == [inp, out]
            assert f"{inp:,}" in subtitle(chart)
            await pilot.press("escape")
            assert chart.cursor is None
            # Back 48 hours: the cards and charts are read again for that window.
            await pilot.press("less_than_sign")
            end = NOW - timedelta(hours=48)
            assert screen.chart_end == end
            await wait_for(pilot, lambda: screen.analytics is not None
                           and screen.analytics.ending == end, "the earlier window")
            await pilot.pause()
            since = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
            (count,) = sql("SELECT COUNT(*) FROM traces WHERE timestamp >= ? AND "
                           "timestamp <= ?", gateway_time(since), gateway_time(end))
            assert screen.query_one("#tkpi-requests", KpiCard).value == f"{count:,}"
            assert chart.data.ending == int(end.timestamp()) // 60
            assert "scrolled back" in str(chart.border_title)
            await pilot.press("greater_than_sign")
            assert screen.chart_end is None
            await wait_for(pilot, lambda: screen.analytics is not None
                           and screen.analytics.ending is None, "the window ending now")
            await pilot.pause()
            assert chart.data.ending is None and "last 48 hours" in str(chart.border_title)
            # Back until a window holds no trace: there < stops, and the chart says so.
            (first,) = sql("SELECT COUNT(*) FROM traces")
            for _ in range(10):
                before = screen.chart_end
                await pilot.press("less_than_sign")
                if screen.chart_end == before:
                    break
                await wait_for(pilot, lambda: screen.analytics is not None
                               and screen.analytics.ending == screen.chart_end,
                               "the earlier window")
                await pilot.pause()
            else:  # pragma: no cover
                raise AssertionError("< never stopped")
            assert first and screen.analytics is not None
            assert screen.analytics.usage.request_count == 0
            assert chart.data.quiet == "no traces in this window: < stops here"
    finally:
        demo.stop()
