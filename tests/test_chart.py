"""The time chart's last point is "now", still filling (issue 17, defect 7): drawn as if
complete, every chart ended in a drop to zero and read as "activity stopped"."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from tokentop.tui import format as fmt
from tokentop.tui.widgets.chart import (
    MIN_PARTIAL,
    PARTIAL_LEGEND,
    ChartData,
    Series,
    TimeChart,
    elapsed_share,
    layout_plot,
)

MINUTES = list(range(1000, 1030))  # thirty one-minute buckets
STEADY = [600] * 29 + [200]  # a steady 600 a minute; the current minute 20 s old


def test_elapsed_share() -> None:
    assert elapsed_share(1029, 1, 1029 + 1 / 3) == pytest.approx(1 / 3)
    assert elapsed_share(1029, 1, 1030) == 1.0  # over
    assert elapsed_share(1029, 1, None) == 1.0  # no clock: as before
    assert elapsed_share(1025, 5, 1027.5) == pytest.approx(0.5)  # a merged point


def test_an_open_minute_ends_the_line_not_drops_it() -> None:
    data = ChartData(MINUTES, 1, [Series("tokens", STEADY, "#ff0000")])
    layout = layout_plot(data, 60, 12, str, now_minute=1029 + 1 / 3)
    assert layout is not None and layout.open_end
    assert layout.ys[0][-1] == 200  # what was counted stays what is reported
    assert layout.projected == ()  # not drawn: gridctl flushes a minute at once


def test_an_open_hour_is_scaled_not_a_drop() -> None:
    hours = [h * 60 for h in range(100, 124)]
    data = ChartData(hours, 60, [Series("tokens", [6000] * 23 + [2000], "#ff0000")])
    layout = layout_plot(data, 60, 12, str, now_minute=123 * 60 + 20)
    assert layout is not None and layout.open_end
    assert layout.projected == (pytest.approx(6000.0),)  # its rate so far, whole hour


def test_too_early_in_the_bucket_draws_no_last_point() -> None:
    data = ChartData(MINUTES, 1, [Series("tokens", [*STEADY[:-1], 5], "#ff0000")])
    layout = layout_plot(data, 60, 12, str, now_minute=1029 + MIN_PARTIAL / 2)
    assert layout is not None and layout.open_end and layout.projected == ()


def test_a_past_range_is_complete() -> None:
    data = ChartData(MINUTES, 1, [Series("tokens", STEADY, "#ff0000")])
    layout = layout_plot(data, 60, 12, str, now_minute=2000)
    assert layout is not None and not layout.open_end and layout.projected == ()


def test_merged_points_count_the_elapsed_share_of_their_span() -> None:
    # Six hours of one-minute buckets on 80 columns merge by 5; the last point runs
    # 955-959 and, at 957:30, is half over: 2.5 minutes of a steady 100 a minute.
    minutes = list(range(600, 958))
    values = [100] * 357 + [50]
    data = ChartData(minutes, 1, [Series("tokens", values, "#ff0000")])
    layout = layout_plot(data, 80, 12, str, now_minute=957.5)
    assert layout is not None and layout.factor == 5
    assert layout.partial == pytest.approx(0.5)
    assert layout.ys[0][-2:] == [500, 250]
    assert layout.projected == (pytest.approx(500.0),)  # like its complete neighbours


class OneChart(App[None]):
    def __init__(self, now: float) -> None:
        super().__init__()
        self.clock = lambda: now * 60

    def compose(self) -> ComposeResult:
        yield TimeChart("Tokens", fmt.tokens, id="chart")


async def test_chart_legend_says_now_is_partial() -> None:
    hours = [h * 60 for h in range(100, 124)]
    app = OneChart(123 * 60 + 30)
    async with app.run_test(size=(80, 16)) as pilot:
        chart = app.query_one(TimeChart)
        chart.show(ChartData(hours, 60, [Series("tokens", [6000] * 23 + [3000], "#ff0000")]))
        await pilot.pause()
        assert chart.plot_layout is not None and chart.plot_layout.open_end
        assert PARTIAL_LEGEND in str(chart.border_subtitle)
        text = chart.render()  # plotext draws without error with the split line
        assert text is not None
