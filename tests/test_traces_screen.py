"""Pilot tests of the Traces screen (4) on a real gateway SQLite store.

The store is the demo gateway's (``tokentop.tui.demo.traces``: the gateway's own migrations and
indexes) built with a fixed seed and the tests' fixed "now"; expected values come
from plain SQL on the same file, never from the code under test. Every test waits on
a condition (a page landed, the analytics landed), never on a sleep.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from conftest import MISSING_ROOT, NOW, fixed_clock
from textual.pilot import Pilot
from textual.widgets import DataTable, Label, Static

from tokentop.store.metrics import MetricsSource
from tokentop.tui.app import TokentopApp
from tokentop.tui.demo.traces import DemoTraces, build_demo_traces, gateway_time
from tokentop.tui.screens.traces import NO_STORE, PAGE_SIZE, TracesScreen
from tokentop.tui.widgets.kpi import KpiCard

COUNT = 1200


@pytest.fixture
def gateway(tmp_path: Path) -> DemoTraces:
    demo = build_demo_traces(seed=7, now=NOW, root=tmp_path / "gw", count=COUNT)
    yield demo  # type: ignore[misc]
    demo.stop()


def traces_app(target: Path | str | None, diagnostics: Path | str | None = None
               ) -> TokentopApp:
    source = MetricsSource(MISSING_ROOT, clock=fixed_clock)
    return TokentopApp(source, clock=fixed_clock, follow=False,
                       traces=None if target is None else str(target),
                       diagnostics=None if diagnostics is None else str(diagnostics))


async def wait_for(pilot: Pilot[int], condition: Callable[[], bool], what: str) -> None:
    for _ in range(1500):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def screen_of(app: TokentopApp) -> TracesScreen:
    screen = app.screen
    assert isinstance(screen, TracesScreen)
    return screen


async def open_traces(pilot: Pilot[int]) -> TracesScreen:
    """Show the Traces screen; wait for its first page and analytics (or an error)."""
    await pilot.press("4")
    screen = screen_of(cast(TokentopApp, pilot.app))
    await wait_for(pilot, lambda: screen.error is not None or (
        screen.pages_loaded > 0 and screen.analytics is not None), "the first read")
    await pilot.pause()
    return screen


def sql(path: Path, query: str, *args: object) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(query, args).fetchall()
    finally:
        conn.close()


def shown_ids(screen: TracesScreen) -> list[str]:
    return [r.id for r in screen.rows]


async def test_empty_state_without_traces() -> None:
    app = traces_app(None)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        screen = screen_of(app)
        await pilot.pause()
        empty = screen.query_one("#traces-empty", Static)
        assert empty.display and NO_STORE in str(empty.render())
        assert not screen.query_one("#traces-list").display
        await pilot.press("v", "f", "right_square_bracket")  # disabled: nothing happens
        assert screen.showing == "list" and screen.provider is None


async def test_first_page_is_the_newest_traces(gateway: DemoTraces) -> None:
    app = traces_app(gateway.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_traces(pilot)
        expected = [r[0] for r in sql(gateway.path, "SELECT id FROM traces ORDER BY "
                                      "created_at DESC, id DESC LIMIT ?", PAGE_SIZE)]
        assert shown_ids(screen) == expected
        table = screen.query_one("#traces-table", DataTable)
        assert table.row_count == PAGE_SIZE
        assert "sqlite · read-only" in str(screen.query_one("#traces-status", Label).render())


async def test_paging_with_the_cursor_stack(gateway: DemoTraces) -> None:
    app = traces_app(gateway.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_traces(pilot)
        ordered = [r[0] for r in sql(gateway.path, "SELECT id FROM traces ORDER BY "
                                     "created_at DESC, id DESC")]
        for page in (1, 2):
            loaded = screen.pages_loaded
            await pilot.press("right_square_bracket")
            await wait_for(pilot, lambda n=loaded: screen.pages_loaded > n, "the next page")
            assert len(screen.cursors) == page + 1
            assert shown_ids(screen) == ordered[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
        loaded = screen.pages_loaded
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: screen.pages_loaded > loaded, "the previous page")
        assert shown_ids(screen) == ordered[PAGE_SIZE:2 * PAGE_SIZE]
        assert "page 2" in str(screen.query_one("#traces-filters", Label).render())


async def test_filters(gateway: DemoTraces) -> None:
    app = traces_app(gateway.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_traces(pilot)
        assert screen.analytics is not None
        assert screen.analytics.providers == ["anthropic", "google", "openai"]

        async def press(key: str) -> None:
            loaded = screen.pages_loaded
            await pilot.press(key)
            await wait_for(pilot, lambda: screen.pages_loaded > loaded, f"a page after {key}")

        await press("f")
        assert screen.provider == "anthropic"
        expected = [r[0] for r in sql(gateway.path, "SELECT id FROM traces WHERE provider = "
                                      "'anthropic' ORDER BY created_at DESC, id DESC LIMIT ?",
                                      PAGE_SIZE)]
        assert shown_ids(screen) == expected
        await press("c")
        assert screen.status == 200
        assert {r.response_status for r in screen.rows} == {200}
        assert {r.provider for r in screen.rows} == {"anthropic"}
        await wait_for(pilot, lambda: screen.analytics is not None and all(
            m.startswith("claude") for m in screen.analytics.models), "anthropic's models")
        await press("m")
        assert screen.model is not None and screen.model.startswith("claude")
        assert {r.model for r in screen.rows} == {screen.model}
        await press("x")
        assert (screen.provider, screen.model, screen.status) == (None, None, None)
        assert "provider all" in str(screen.query_one("#traces-filters", Label).render())


async def test_detail_redacts_credentials(gateway: DemoTraces) -> None:
    app = traces_app(gateway.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_traces(pilot)
        first = screen.rows[0].id
        (req, resp), = sql(gateway.path, "SELECT request_headers, response_headers FROM "
                                         "traces WHERE id = ?", first)
        secrets = [token for h in (json.loads(str(req)), json.loads(str(resp)))
                   for name, values in h.items()
                   if name.lower() in ("authorization", "x-api-key", "api-key", "cookie",
                                       "set-cookie") for v in values
                   for token in re.split(r"[ ;=]+", v) if len(token) >= 16]
        assert secrets
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.detail is not None, "the detail")
        await pilot.pause()
        body = str(screen.query_one("#traces-detail-body", Static).render())
        assert first in body and "Request headers" in body and "Response body" in body
        assert "[redacted]" in body
        for secret in secrets:  # API keys, session and Cloudflare cookie values
            assert secret not in body
        assert screen.query_one("#traces-detail").display
        await pilot.press("escape")
        assert not screen.query_one("#traces-detail").display


async def test_analytics_view_matches_sql(gateway: DemoTraces) -> None:
    app = traces_app(gateway.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_traces(pilot)
        since = gateway_time(datetime(2026, 5, 3, 12, 0, tzinfo=UTC))  # 48 h back, floored
        until = gateway_time(NOW)
        (count, errors), = sql(gateway.path, "SELECT COUNT(*), SUM(response_status >= 400) "
                               "FROM traces WHERE timestamp >= ? AND timestamp <= ?",
                               since, until)
        assert screen.query_one("#tkpi-requests", KpiCard).value == f"{count:,}"
        assert screen.query_one("#tkpi-errors", KpiCard).value == \
            f"{int(errors) / int(count):.1%}"  # type: ignore[arg-type]
        await pilot.press("v")
        assert screen.showing == "analytics"
        await pilot.pause()
        latency = str(screen.query_one("#traces-latency", Static).render())
        assert "claude-opus-4-1" in latency and "p95" in latency
        errors_panel = str(screen.query_one("#traces-errors", Static).render())
        assert "gemini-2.5-pro" in errors_panel and "%" in errors_panel
        chart = screen.query_one("#traces-tokens-chart")
        (tokens,), = sql(gateway.path, "SELECT SUM(total_tokens) FROM traces WHERE "
                         "timestamp >= ? AND timestamp <= ?", since, until)
        assert sum(sum(s.values) for s in chart.data.series) == tokens  # type: ignore[attr-defined]
        await pilot.press("g")
        await wait_for(pilot, lambda: screen.analytics is not None and
                       screen.analytics.bucket == "day", "the daily analytics")
        assert len(chart.data.minutes) == 15  # type: ignore[attr-defined]
        assert "per day" in str(chart.border_title)
        await pilot.press("v")  # and back to the traces
        assert screen.showing == "list" and screen.query_one("#traces-list").display


async def test_queue_pressure_badge(gateway: DemoTraces, tmp_path: Path) -> None:
    doc = json.loads(gateway.diagnostics_path.read_text())
    doc["diagnostics"]["queue_utilization_pct"] = 85
    diag = tmp_path / "diag.json"
    diag.write_text(json.dumps(doc))
    app = traces_app(gateway.path, diag)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_traces(pilot)
        await wait_for(pilot, lambda: screen.diagnostics is not None, "the diagnostics")
        await pilot.pause()
        badge = str(screen.query_one("#traces-queue", Label).render())
        assert "high" in badge and "85%" in badge


async def test_bad_diagnostics_and_bad_store_say_so(tmp_path: Path) -> None:
    bad_db = tmp_path / "not-a-db.sqlite"
    bad_db.write_text("hello, I am text\n" * 100)
    diag = tmp_path / "diag.json"
    diag.write_text("{not json")
    app = traces_app(bad_db, diag)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_traces(pilot)
        assert screen.error is not None
        message = str(screen.query_one("#traces-message", Static).render())
        assert message and "Traceback" not in message
        await wait_for(pilot, lambda: screen.diagnostics_error is not None, "diagnostics error")
        await pilot.pause()
        assert "queue ?" in str(screen.query_one("#traces-queue", Label).render())


async def test_new_traces_appear_on_the_first_page(gateway: DemoTraces) -> None:
    app = traces_app(gateway.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_traces(pilot)
        conn = sqlite3.connect(gateway.path)
        try:
            gateway.insert(NOW + timedelta(seconds=5), conn)
        finally:
            conn.close()
        (newest,), = sql(gateway.path, "SELECT id FROM traces ORDER BY created_at DESC, "
                         "id DESC LIMIT 1")
        await wait_for(pilot, lambda: screen.rows and screen.rows[0].id == newest,
                       "the new trace on top")


async def test_the_same_screen_over_postgresql(gateway: DemoTraces) -> None:
    """The demo's rows copied into a real PostgreSQL: the screen shows the same page and
    the same KPIs as over the SQLite file (one TraceStore API, two backends)."""
    import asyncio
    import sys
    from dataclasses import fields

    sys.path.insert(0, str(Path(__file__).parent / "traces"))
    from gateway_db import Row, write_postgres
    from pg_server import pg_bindir, running_server

    from tokentop.store.traces.timefmt import parse_db_time

    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl) on this machine")
    conn = sqlite3.connect(gateway.path)
    conn.row_factory = sqlite3.Row
    try:
        names = [f.name for f in fields(Row)]
        rows = [Row(**{n: (parse_db_time(r[n]) if n in ("timestamp", "created_at") else r[n])
                       for n in names}) for r in conn.execute("SELECT * FROM traces")]
    finally:
        conn.close()
    with running_server(bindir) as server:
        dsn = server.create_database("screen")
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: asyncio.run(write_postgres(dsn, rows)))
        results = {}
        for target in (str(gateway.path), dsn):
            app = traces_app(target)
            async with app.run_test(size=(120, 40)) as pilot:
                screen = await open_traces(pilot)
                assert screen.error is None, screen.error
                assert screen.store is not None
                results[screen.store.backend] = (
                    shown_ids(screen),
                    screen.query_one("#tkpi-requests", KpiCard).value,
                    screen.query_one("#tkpi-tokens", KpiCard).value,
                    screen.query_one("#tkpi-cost", KpiCard).value,
                    screen.query_one("#tkpi-p95", KpiCard).value)
        assert set(results) == {"sqlite", "postgresql"}
        assert results["sqlite"] == results["postgresql"]
