"""Pilot tests of the Access screen (5) on real access-event files.

The screen follows the file in its own thread worker; every test waits on a condition
(the log's state, the screen's snapshot) before looking, never on a sleep.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest
from conftest import MISSING_ROOT, fixed_clock
from textual.pilot import Pilot
from textual.widgets import Label, Static

from tokentop.store.metrics import MetricsSource
from tokentop.tui.app import TokentopApp
from tokentop.tui.screens.access import NO_LOG, AccessScreen
from tokentop.tui.widgets.chart import TimeChart
from tokentop.tui.widgets.kpi import KpiCard

sys.path.insert(0, str(Path(__file__).parent / "access"))
from test_access_store import ev, fixture_events, line


def access_app(path: Path | str | None, *, follow: bool = False) -> TokentopApp:
    source = MetricsSource(MISSING_ROOT, clock=fixed_clock)
    return TokentopApp(source, clock=fixed_clock, follow=follow,
                       access=None if path is None else str(path))


async def wait_for(pilot: Pilot[int], condition: Callable[[], bool], what: str) -> None:
    for _ in range(1000):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def screen_of(app: TokentopApp) -> AccessScreen:
    screen = app.screen
    assert isinstance(screen, AccessScreen)
    return screen


async def open_access(pilot: Pilot[int], reads: int | None = None) -> AccessScreen:
    """Show the Access screen and wait until it drew the whole file (or ``reads``)."""
    await pilot.press("5")
    app = cast(TokentopApp, pilot.app)
    screen = screen_of(app)

    def drawn() -> bool:
        log = screen.access_log
        if log is None or screen.snap is None:
            return False
        done = log.stats.state in ("ended", "failed") if reads is None else (
            log.snapshot().reads >= reads)
        return done and screen.snap.version == log.summary.version and (
            screen.drawn_version == log.version)

    await wait_for(pilot, drawn, "the access log to be read and drawn")
    await pilot.pause()
    return screen


def kpi(screen: AccessScreen, wid: str) -> str:
    return screen.query_one(f"#{wid}", KpiCard).value


def text_of(screen: AccessScreen, wid: str) -> str:
    return str(screen.query_one(f"#{wid}", Static).render())


def write(path: Path, extra: bytes = b"") -> None:
    path.write_bytes(b"".join(line(e) for e in fixture_events()) + extra)


async def test_empty_state_without_access() -> None:
    app = access_app(None)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")
        screen = screen_of(app)
        await pilot.pause()
        empty = screen.query_one("#access-empty", Static)
        assert empty.display and NO_LOG in str(empty.render())
        assert not screen.query_one("#kpis").display
        assert "no access-event log" in str(screen.query_one("#access-status", Label).render())


async def test_summary_on_screen(tmp_path: Path) -> None:
    p = tmp_path / "access.jsonl"
    write(p, b"{torn line\n")
    app = access_app(p)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_access(pilot)
        assert kpi(screen, "akpi-reads") == "6"
        assert kpi(screen, "akpi-cache") == "83% (5)"  # GetSummary: all but backend_rpc
        assert kpi(screen, "akpi-saved") == "2.3k"  # tokentop's
        assert kpi(screen, "akpi-ratio") == "0.19"  # airstore's: 700 / 3600
        assert kpi(screen, "akpi-failed") == "1"
        timings = text_of(screen, "access-timings").splitlines()
        assert timings[0].startswith("latency") and "not recorded" in timings[0]
        assert timings[2].startswith("compression") and "5 ms avg" in timings[2]
        breakdown = text_of(screen, "access-breakdown")
        assert "compressed" in breakdown and "cache_hit" in breakdown and "error" in breakdown
        paths = text_of(screen, "access-paths")
        assert paths.index("/github/a.go") < paths.index("/slack/x.md")
        tail = text_of(screen, "access-tail").splitlines()
        assert len(tail) == 6 and "12:02:00" in tail[-1] and "cache_hit" in tail[-1]
        assert "boom" in text_of(screen, "access-tail")  # the error message is shown
        status = str(screen.query_one("#access-status", Label).render())
        assert "read to the end" in status and "1 malformed" in status
        chart = screen.query_one("#access-chart", TimeChart)
        assert sum(sum(s.values) for s in chart.data.series) == 2300
        assert "last hour" in str(chart.border_title)


async def test_breakdown_and_range_keys(tmp_path: Path) -> None:
    p = tmp_path / "access.jsonl"
    write(p)
    app = access_app(p)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_access(pilot)
        await pilot.press("b")
        assert screen.breakdown == "integration"
        assert "By integration" in str(screen.query_one("#access-breakdown").border_title)
        assert "slack" in text_of(screen, "access-breakdown")
        await pilot.press("b")
        assert "dirty_buffer" in text_of(screen, "access-breakdown")
        assert "unknown" in text_of(screen, "access-breakdown")
        await pilot.press("b")
        assert screen.breakdown == "strategy" and "auto" in text_of(screen, "access-breakdown")
        await pilot.press("b")
        assert screen.breakdown == "origin" and "gateway" in text_of(screen, "access-breakdown")
        await pilot.press("b")
        assert screen.breakdown == "session" and text_of(screen, "access-breakdown").startswith(
            "s ")
        await pilot.press("b")
        assert screen.breakdown == "errors"
        assert "boom" in text_of(screen, "access-breakdown")
        assert "error message" in str(screen.query_one("#access-breakdown").border_title)
        await pilot.press("b")
        assert screen.breakdown == "outcome"
        await pilot.press("B", "B", "B", "B", "B", "B")
        assert screen.breakdown == "integration"
        await pilot.press("B")
        assert screen.breakdown == "outcome"
        await pilot.press("r")
        assert screen.range_name == "6h"
        chart = screen.query_one("#access-chart", TimeChart)
        assert len(chart.data.minutes) == 360
        await pilot.press("r", "r")
        assert screen.range_name == "all" and len(chart.data.minutes) == 3


async def test_follows_appends_in_batches(tmp_path: Path) -> None:
    p = tmp_path / "access.jsonl"
    write(p)
    app = access_app(p, follow=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_access(pilot, reads=6)
        before = screen.redraws
        with p.open("ab") as f:
            for i in range(2000):
                f.write(line(ev(100 + i, path=f"/bulk/{i % 7}.md", minute=5)))
                if i % 100 == 99:
                    f.flush()
        await wait_for(pilot, lambda: kpi(screen, "akpi-reads") == "2,006",
                       "the appended reads on screen")
        # 2000 lines in 20 flushes: a few redraws, never one per line or per flush batch.
        assert screen.redraws - before <= 12
        assert "/bulk/" in text_of(screen, "access-paths")
        assert "/bulk/" in text_of(screen, "access-tail")


async def test_pause_freezes_the_screen(tmp_path: Path) -> None:
    p = tmp_path / "access.jsonl"
    write(p)
    app = access_app(p, follow=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_access(pilot, reads=6)
        await pilot.press("space")
        assert screen.query_one("#access-paused", Label).display
        with p.open("ab") as f:
            f.write(line(ev(50)))
        log = screen.access_log
        assert log is not None
        await wait_for(pilot, lambda: log.snapshot().reads == 7, "the follower to read it")
        for _ in range(3):  # ticks pass: the screen stays as it was
            await pilot.pause(0.3)
        assert kpi(screen, "akpi-reads") == "6"
        await pilot.press("space")
        await wait_for(pilot, lambda: kpi(screen, "akpi-reads") == "7", "the resumed screen")


async def test_missing_file_says_so(tmp_path: Path) -> None:
    app = access_app(tmp_path / "nope.jsonl")  # a long temporary path: 120 columns
    async with app.run_test(size=(120, 24)) as pilot:
        screen = await open_access(pilot)
        status = str(screen.query_one("#access-status", Label).render())
        assert "failed" in status and "nope.jsonl" in status
        assert kpi(screen, "akpi-reads") == "0"


async def test_untrusted_text_is_never_markup(tmp_path: Path) -> None:
    p = tmp_path / "access.jsonl"
    p.write_bytes(line(ev(1, path="/[bold red]x[/]\x1b[31m.md", integration="[i]gh",
                          outcome="error", error_msg="[b]x[/b]")))
    app = access_app(p)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_access(pilot)
        tail = text_of(screen, "access-tail")
        assert "/[bold red]x[/]\\x1b[31m.md" in tail
        assert "[b]x[/b]" in tail
        await pilot.press("b")
        assert "[i]gh" in text_of(screen, "access-breakdown")


async def test_json_and_screen_agree(tmp_path: Path) -> None:
    """The headless document and the screen draw from the same AccessLog code."""
    p = tmp_path / "access.jsonl"
    write(p)
    from tokentop.store.access import AccessLog

    doc = AccessLog(p)
    doc.read_all()
    expected = json.loads(json.dumps(doc.document()))
    app = access_app(p)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_access(pilot)
        assert screen.snap is not None
        assert screen.snap.to_dict() == {k: v for k, v in expected.items()
                                         if k not in ("source", "malformed", "last_malformed")}


async def test_the_api_on_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--access https://HOST/api/v1/workspaces/WS``: the loopback airstore
    (tests/access/airstore_api.py) paged, then polled; the token never shown."""
    from airstore_api import AirstoreApi, access_event, serve

    monkeypatch.setenv("AIRSTORE_TOKEN", "sekrit-token")
    api = AirstoreApi()
    for i in range(20):
        api.append(access_event(i, latency_ms=12, strategy="strip"))
    with serve(api) as base:
        url = f"{base}/api/v1/workspaces/ws-ext"
        app = access_app(url, follow=True)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_access(pilot, reads=20)
            assert kpi(screen, "akpi-reads") == "20"
            assert kpi(screen, "akpi-ratio") == "0.20"
            for i in range(20, 26):
                api.append(access_event(i))
            await wait_for(pilot, lambda: screen.snap is not None and screen.snap.reads == 26,
                           "the polled reads")
            status = str(screen.query_one("#access-status", Label).render())
            assert "polling" in status and "26 reads" in status
            scope = str(screen.query_one("#access-scope", Label).render())
            assert "/api/v1/workspaces/ws-ext/access-log" in scope
            assert "sekrit" not in scope + status
            assert "12 ms avg" in text_of(screen, "access-timings")


async def test_a_refused_token_on_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    from airstore_api import AirstoreApi, serve

    monkeypatch.setenv("AIRSTORE_TOKEN", "wrong-one")
    with serve(AirstoreApi()) as base:
        app = access_app(f"{base}/api/v1/workspaces/ws-ext", follow=True)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_access(pilot)
            status = str(screen.query_one("#access-status", Label).render())
            assert "failed" in status and "401 invalid token" in status
            assert "wrong-one" not in status


async def test_a_url_that_names_no_workspace_on_screen() -> None:
    app = access_app("https://user:pw@air.example/api/v1/tasks")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_access(pilot)
        status = str(screen.query_one("#access-status", Label).render())
        scope = str(screen.query_one("#access-scope", Label).render())
        assert "failed" in status and "not an airstore workspace URL" in status
        assert "pw" not in scope + status


@pytest.mark.parametrize("size", [(60, 20), (80, 24), (200, 60)])
async def test_the_range_says_it_moves_the_chart_not_the_cards(
        tmp_path: Path, size: tuple[int, int]) -> None:
    """Issue 17: ``r`` changed the chart but not the cards, without saying so. The top
    bar says what each covers; every card's value is shown whole at every size."""
    path = tmp_path / "access.jsonl"
    write(path)
    app = access_app(path)
    async with app.run_test(size=size) as pilot:
        screen = await open_access(pilot)
        scope = text_of(screen, "access-scope")
        assert "cards: all reads" in scope and "chart: last hour" in scope
        reads = kpi(screen, "akpi-reads")
        await pilot.press("r")
        await pilot.pause()
        scope = text_of(screen, "access-scope")
        assert "cards: all reads · chart: last 6 hours" in scope
        assert kpi(screen, "akpi-reads") == reads
        await pilot.press("r", "r")
        await pilot.pause()
        assert "cards, chart: all reads" in text_of(screen, "access-scope")
        for card in screen.query(KpiCard):
            value = card.query_one(".kpi-value", Label)
            assert value.content_size.width >= len(card.value), card.id
