"""Issue 17, defect 1 (Traces): at 60x20 the cards showed ``Requests 1,`` for 1,919.

Every card, at every size, shows its number whole or abbreviated in the cells it has;
the requests card reads as the count plain SQL gives (exact, or ``1.9k``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import NOW
from test_traces_screen import open_traces, traces_app, wait_for
from textual.widgets import DataTable

from tokentop.tui.demo.traces import DemoTraces, build_demo_traces
from tokentop.tui.widgets.kpi import KpiCard
from tokentop.tui.widgets.trace_cards import count_spellings, fit_card, usd_spellings

CARDS = ("#tkpi-requests", "#tkpi-tokens", "#tkpi-cost", "#tkpi-errors", "#tkpi-p95")


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTraces]:
    """A store with over a thousand requests in the cards' 48-hour window."""
    root: Path = tmp_path_factory.mktemp("busy") / "gw"
    demo = build_demo_traces(seed=7, now=NOW, root=root, count=3000)
    yield demo
    demo.stop()


def test_fit_prefers_the_whole_number_then_the_short_label() -> None:
    assert fit_card(20, ("Requests", "Reqs"), ["1,919", "1.9k"], True) == ("Requests", "1,919")
    assert fit_card(13, ("Requests", "Reqs"), ["1,919", "1.9k"], True) == ("Requests", "1.9k")
    assert fit_card(10, ("Requests", "Reqs"), ["1,919", "1.9k"], True) == ("Reqs", "1,919")
    assert fit_card(9, ("Requests", "Reqs"), ["1,919", "1.9k"], True) == ("Reqs", "1.9k")
    assert fit_card(6, ("Requests",), ["1,919", "1.9k"], False) == ("Requests", "1,919")
    assert count_spellings(1919) == ["1,919", "1.9k"]
    assert usd_spellings(1234.5) == ["$1,234.50", "$1,234", "$1.2k"]


@pytest.mark.parametrize("size", [(60, 20), (80, 24), (120, 40), (200, 60)])
async def test_cards_fit_at_every_size(busy: DemoTraces, size: tuple[int, int]) -> None:
    app = traces_app(busy.path)
    async with app.run_test(size=size) as pilot:
        screen = await open_traces(pilot)
        await pilot.pause()
        await pilot.pause()
        inline = screen.has_class("-short")
        assert screen.analytics is not None
        n = screen.analytics.usage.request_count
        assert n >= 1000  # the case of the defect: a four-digit count
        for wid in CARDS:
            card = screen.query_one(wid, KpiCard)
            used = len(card.value) + (len(card.label) + 1 if inline else 0)
            assert used <= card.content_size.width, (wid, card.label, card.value)
        requests = screen.query_one("#tkpi-requests", KpiCard).value
        assert requests in count_spellings(n)
        if size[0] >= 80:
            assert requests == f"{n:,}"



@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_list_times_are_newest_first(busy: DemoTraces, size: tuple[int, int]) -> None:
    """Defect 8: the list is newest first, so its Time column never goes up."""
    app = traces_app(busy.path)
    async with app.run_test(size=size) as pilot:
        screen = await open_traces(pilot)
        table = screen.query_one("#traces-table", DataTable)
        times = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert len(times) > 10
        assert times == sorted(times, reverse=True), times


async def test_cards_follow_the_model_filter(busy: DemoTraces) -> None:
    """Defect 8: the cards ignored the filters. With a model chosen, the requests card
    counts that model's requests (as the per-model error table of the unfiltered read
    counts them)."""
    app = traces_app(busy.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_traces(pilot)
        a = screen.analytics
        assert a is not None
        per_model = {e.group: e.total_requests for e in a.errors}
        await pilot.press("m")
        model = screen.model
        assert model is not None
        await wait_for(pilot, lambda: screen.analytics is not None
                       and screen.analytics.filters == (None, model), "filtered cards")
        await pilot.pause()
        shown = screen.query_one("#tkpi-requests", KpiCard).value
        assert shown == f"{per_model[model]:,}" != f"{a.usage.request_count:,}"
        assert screen.analytics.models == a.models  # the choices stay the whole scope
        await pilot.press("x")
        await wait_for(pilot, lambda: screen.analytics is not None
                       and screen.analytics.filters == (None, None), "unfiltered cards")
        await pilot.pause()
        assert screen.query_one("#tkpi-requests", KpiCard).value == \
            f"{a.usage.request_count:,}"
