"""Pilot tests of the Usage screen over a real usage store (conftest.usage_requests).

Expected numbers are worked out by hand from the fixture's messages (NOW is
2026-05-05 12:30 UTC; costs are given, except mystery-x's, which has no price):

  window  messages                      tokens                     cost    msgs  sessions
  1d      12:00 s1, 11:00 s2, 12:10 s1  1500+4000+200 = 5,700      $1.00   3     2
  3d      + May 3 (s3, 20,000)          25,700                     $3.00   4     3
  7d      + Apr 30 (s4, 100,000)        125,700                    $13.00  5     4
  30d     + Apr 10 (s5, 500,000)        625,700                    $63.00  6     5
  all     + Jan 1 (s6, 300)             626,000                    $63.03  7     6
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest
from conftest import USAGE_SONNET, fixed_clock, settle_usage
from conftest import settle_overview as settle
from textual.widgets import Label

from tokentop.store.metrics import MetricsSource
from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.model import IngestRequest
from tokentop.store.usage.schema import create
from tokentop.tui.app import TokentopApp
from tokentop.tui.screens.events import EventsScreen
from tokentop.tui.screens.overview import OverviewScreen
from tokentop.tui.screens.usage import UsageScreen
from tokentop.tui.widgets.breakdown import BreakdownTable
from tokentop.tui.widgets.kpi import KpiCard

EXPECTED = {
    "1d": ("5.7k", "$1.00", "2", "3"),
    "3d": ("25.7k", "$3.00", "3", "4"),
    "7d": ("126k", "$13.00", "4", "5"),
    "30d": ("626k", "$63.00", "5", "6"),
    "month": ("25.7k", "$3.00", "3", "4"),  # May 1 00:00 UTC to now: 1d + May 3
    "all": ("626k", "$63.03", "6", "7"),
}


def usage(app: TokentopApp) -> UsageScreen:
    assert isinstance(app.screen, UsageScreen)
    return app.screen


def kpis(app: TokentopApp) -> tuple[str, str, str, str]:
    screen = usage(app)
    value = {c.id: c.value for c in screen.query(KpiCard)}
    return (value["ukpi-tokens"], value["ukpi-cost"], value["ukpi-sessions"],
            value["ukpi-messages"])


def table_keys(app: TokentopApp) -> list[str]:
    return [r.key for r in usage(app).query_one("#breakdown", BreakdownTable).rows_shown]


def message(app: TokentopApp) -> str:
    label = usage(app).query_one("#usage-message", Label)
    return str(label.render()) if label.display else ""


async def test_tab_and_digits_switch_screens(usage_app: TokentopApp) -> None:
    async with usage_app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(usage_app.screen, OverviewScreen)
        await pilot.press("tab")
        await settle_usage(pilot)
        assert isinstance(usage_app.screen, UsageScreen)
        await pilot.press("tab")
        assert isinstance(usage_app.screen, EventsScreen)
        order = [type(usage_app.screen).__name__]
        for _ in range(6):  # Traces, Access, Files, Logs, Spans, then round to Overview
            await pilot.press("tab")
            order.append(type(usage_app.screen).__name__)
        assert order == ["EventsScreen", "TracesScreen", "AccessScreen", "FilesScreen",
                         "LogsScreen", "SpansScreen", "OverviewScreen"]
        await pilot.press("2")
        assert isinstance(usage_app.screen, UsageScreen)
        await pilot.press("3")
        assert isinstance(usage_app.screen, EventsScreen)
        for key, name in (("4", "TracesScreen"), ("5", "AccessScreen"), ("6", "FilesScreen"),
                          ("7", "LogsScreen"), ("8", "SpansScreen")):
            await pilot.press(key)
            for _ in range(200):  # a screen built on first use may take a few frames
                if type(usage_app.screen).__name__ == name:
                    break
                await pilot.pause(0.01)
            assert type(usage_app.screen).__name__ == name
        await pilot.press("1")
        assert isinstance(usage_app.screen, OverviewScreen)


async def test_w_cycles_windows_and_kpis_follow(usage_app: TokentopApp) -> None:
    async with usage_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle_usage(pilot)
        for window in ("1d", "3d", "7d", "30d", "month", "all"):
            assert usage(usage_app).window == window
            assert kpis(usage_app) == EXPECTED[window], window
            await pilot.press("r")
            await settle_usage(pilot)
        assert usage(usage_app).window == "1d"
        assert kpis(usage_app) == EXPECTED["1d"]
        # The window labels are clickable too.
        await pilot.click("#window-7d")
        await settle_usage(pilot)
        assert kpis(usage_app) == EXPECTED["7d"]


async def test_b_switches_breakdowns(usage_app: TokentopApp) -> None:
    async with usage_app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle_usage(pilot)
        assert table_keys(usage_app) == ["gpt-5-codex", USAGE_SONNET, "mystery-x"]
        seen = {}
        for kind in ("provider", "agent", "project", "tool", "session", "model"):
            await pilot.press("b")
            await pilot.pause()
            assert usage(usage_app).breakdown == kind
            if kind != "session":  # the sessions have a table of their own
                seen[kind] = table_keys(usage_app)
        assert seen == {
            "provider": ["openai", "anthropic"],
            "agent": ["codex", "claude_code"],
            "project": ["/home/u/api", "/home/u/app"],
            "tool": ["bash"],
            "model": ["gpt-5-codex", USAGE_SONNET, "mystery-x"],
        }
        unpriced = usage(usage_app).query_one("#unpriced", Label)
        assert unpriced.display and "mystery-x" in str(unpriced.render())


async def test_a_new_message_reaches_the_screen(usage_app: TokentopApp) -> None:
    async with usage_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle_usage(pilot)
        assert kpis(usage_app)[0] == "5.7k"
        with UsageStore.open(Path("usage.db")) as store:
            store.ingest([IngestRequest(
                source_system="claude_code", source_channel="jsonl",
                occurred_at=datetime(2026, 5, 5, 12, 29, tzinfo=UTC), message_id="m-new",
                session_id="s9", workspace_id="/home/u/app", provider_id="anthropic",
                agent_name="claude_code", model_raw=USAGE_SONNET, input_tokens=4300,
                cost_usd=1.5)])
        # The worker sees PRAGMA data_version move within half a second.
        await settle_usage(pilot, lambda: kpis(usage_app)[0] == "10.0k")
        assert kpis(usage_app) == ("10.0k", "$2.50", "3", "4")


async def test_one_hour_writes_and_fast_mode_are_shown(usage_app: TokentopApp) -> None:
    """Claude Code 2.1's priced details (issue 13): hidden when there are none, shown
    as soon as a message with 1-hour cache writes or in fast mode arrives."""
    async with usage_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle_usage(pilot)
        detail = usage(usage_app).query_one("#usage-detail", Label)
        assert not detail.display
        with UsageStore.open(Path("usage.db")) as store:
            store.ingest([IngestRequest(
                source_system="claude_code", source_channel="jsonl",
                occurred_at=datetime(2026, 5, 5, 12, 29, tzinfo=UTC), message_id="m-fast",
                session_id="s9", workspace_id="/home/u/app", provider_id="anthropic",
                agent_name="claude_code", model_raw="claude-opus-4-6", input_tokens=100,
                cache_write_tokens=30_000, cache_write_1h_tokens=20_000, speed="fast")])
        await settle_usage(pilot, lambda: detail.display)
        text = str(detail.render())
        assert "1-hour cache writes 20.0k of 30.0k" in text
        assert "fast mode 1 messages" in text
        keys = table_keys(usage_app)
        assert "claude-opus-4-6-fast" in keys


async def test_a_locked_store_says_so_and_recovers(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    holder = sqlite3.connect(path, isolation_level=None)
    create(holder)  # rollback journal (not WAL): an exclusive lock keeps readers out
    holder.execute("BEGIN EXCLUSIVE")
    app = TokentopApp(MetricsSource(tmp_path / "none", clock=fixed_clock), clock=fixed_clock,
                      follow=False, usage_path=path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("2")
            await settle_usage(pilot, lambda: bool(message(app)))
            assert "locked" in message(app)
            assert "\n" not in message(app)
            holder.execute("ROLLBACK")
            await settle_usage(pilot, lambda: not message(app))
            assert kpis(app)[0] == "0"
    finally:
        holder.close()


async def test_a_corrupt_store_leaves_the_overview_working(usage_app: TokentopApp,
                                                           tmp_path: Path) -> None:
    bad = tmp_path / "corrupt.db"
    bad.write_bytes(b"this is not a database at all\n" * 200)
    usage_app.usage_path = bad
    async with usage_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        overview = cast(OverviewScreen, usage_app.screen)
        inputs = {c.id: c.value for c in overview.query(KpiCard)}
        await pilot.press("2")
        await settle_usage(pilot, lambda: bool(message(usage_app)))
        assert "not a SQLite database" in message(usage_app)
        await pilot.press("1")
        await settle(pilot)
        assert {c.id: c.value for c in overview.query(KpiCard)} == inputs
        assert inputs["kpi-input"] != "0"


async def test_a_new_claude_message_is_collected_and_shown(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard collects into tokentop's own store while it runs (watchfiles)."""
    import json

    claude = tmp_path / "claude"
    project = claude / "projects" / "-home-u-app"
    project.mkdir(parents=True)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    (tmp_path / "state").mkdir()  # a store the user names must be in a directory that is
    app = TokentopApp(MetricsSource(tmp_path / "none", clock=fixed_clock), clock=fixed_clock,
                      follow=False, usage_path=tmp_path / "state" / "usage.db",
                      usage_collect=True)
    line = {"cwd": "/home/u/app", "sessionId": "s-live", "type": "assistant",
            "requestId": "req_1", "uuid": "u1", "timestamp": "2026-05-05T12:20:00.000Z",
            "message": {"id": "msg_live", "role": "assistant", "model": USAGE_SONNET,
                        "usage": {"input_tokens": 4200, "output_tokens": 100,
                                  "cache_creation_input_tokens": 0,
                                  "cache_read_input_tokens": 0}}}
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle_usage(pilot)
        assert kpis(app)[0] == "0"
        # Append a line as Claude Code would; whether the watcher is armed yet or not
        # (a line written before it starts is read by the pass that arms it).
        for worker in app.workers:
            if worker.group == "collect":
                assert worker.is_running
        with (project / "session.jsonl").open("a") as fh:
            fh.write(json.dumps(line, separators=(",", ":")) + "\n")
        await settle_usage(pilot, lambda: kpis(app)[0] == "4.3k")
        assert kpis(app)[3] == "1"


async def test_an_empty_window_names_every_agent_and_where_it_looked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14: the empty Usage screen lists each agent tokentop reads with the paths
    it looked in, the variables applied (GEMINI_DATA_DIR here) and which exist."""
    monkeypatch.chdir(tmp_path)
    gemini = tmp_path / "gem"
    gemini.mkdir()
    monkeypatch.setenv("GEMINI_DATA_DIR", str(gemini))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "no-codex"))
    UsageStore.open(Path("usage.db")).close()
    app = TokentopApp(MetricsSource("absent", clock=fixed_clock), clock=fixed_clock,
                      follow=False, usage_path=Path("usage.db"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle_usage(pilot, lambda: bool(usage(app).locations))
        empty = usage(app).query_one("#usage-empty")
        assert empty.display and not usage(app).query_one("#usage-main").display
        text = str(empty.render())
        assert "Gemini CLI" in text and str(gemini) in text
        assert f"{tmp_path / 'no-codex' / 'sessions'}  (not found)" in text
        for label in ("Claude Code", "Codex", "OpenCode", "Qwen Code", "pi", "Kimi CLI"):
            assert label in text
