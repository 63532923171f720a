"""The Usage screen at every size from 60x20 to 200x60 (issue 17, defect 1).

A store like the demo's: five Claude models whose names share their first 15
characters, and a burn above $1/h. Numbers must show whole or abbreviated, never cut;
names are cut with ``…`` only where space is short and never so that two look alike.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from conftest import fixed_clock, settle_usage

from tokentop.store.metrics import MetricsSource
from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.model import IngestRequest
from tokentop.tui.app import TokentopApp
from tokentop.tui.screens.usage import UsageScreen

NOW = datetime(2026, 5, 5, 12, 30, tzinfo=UTC)
MODELS = ["claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-6",
          "claude-opus-4-6-fast", "claude-sonnet-4-5"]
SIZES = [(60, 20), (80, 24), (100, 30), (120, 40), (200, 60)]


def _store(path: Path) -> None:
    reqs = []
    for n, model in enumerate(MODELS):
        for k in range(3):
            ts = NOW - timedelta(minutes=10 + 7 * k + n)
            reqs.append(IngestRequest(
                source_system="claude_code", source_channel="jsonl", occurred_at=ts,
                message_id=f"m-{model}-{k}", session_id=f"s{k}",
                workspace_id="/home/u/app", provider_id="anthropic",
                agent_name="claude_code", model_raw=model,
                input_tokens=100_000 * (5 - n), output_tokens=1_000, cost_usd=0.11))
    with UsageStore.open(path) as store:
        store.ingest(reqs)


@pytest.fixture
def fit_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TokentopApp:
    monkeypatch.chdir(tmp_path)
    _store(Path("usage.db"))
    return TokentopApp(MetricsSource("absent", clock=fixed_clock), clock=fixed_clock,
                       follow=False, usage_path=Path("usage.db"))


def screen_lines(app: TokentopApp) -> list[str]:
    """The terminal as the user reads it, one string per row."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_numbers_whole_and_model_names_distinct(fit_app: TokentopApp,
                                                      size: tuple[int, int]) -> None:
    async with fit_app.run_test(size=size) as pilot:
        await pilot.press("2")
        await settle_usage(pilot)
        screen = cast(UsageScreen, fit_app.screen)
        await settle_usage(pilot, lambda: screen.view is not None
                           and screen.view.totals.messages > 0)
        await pilot.pause(0.05)
        text = "\n".join(screen_lines(fit_app))
        # 15 messages at $0.11 within the last hour: $1.65/h, shown whole.
        assert "$1.65/h" in text, text
        assert "$1.65 " in text or "$1.65\n" in text or "$1.65│" in text, text
        rows = [line for line in text.splitlines() if "claude" in line]
        names = [re.search(r"claude[\w.\-…]*", line).group(0)  # type: ignore[union-attr]
                 for line in rows]
        assert len(names) == len(MODELS), text
        assert len(set(names)) == len(MODELS), names  # none look the same
        for name in names:  # a cut name is a true prefix or a head…tail of one model
            if "…" not in name:
                assert name in MODELS, name
        # Every row's cost is whole: "$0.33" (3 x $0.11), never "$0" or "$0.3".
        for line in rows:
            assert "$0.3300" in line or "$0.33" in line, line


def _tool_call(ts: datetime, name: str, n: int) -> IngestRequest:
    from tokentop.store.usage.model import EventType

    return IngestRequest(source_system="claude_code", source_channel="jsonl", occurred_at=ts,
                         session_id="s0", workspace_id="/home/u/app", agent_name="claude_code",
                         event_type=EventType.TOOL_USAGE, tool_call_id=f"toolu_{name}_{n}",
                         tool_name=name)


async def test_tool_view_counts_calls_not_zero_tokens(fit_app: TokentopApp) -> None:
    """Issue 17 defect 5: tools were ``edit 0 $0.00 0% 189`` on every row. Tool calls
    carry no tokens, so the view shows calls and their share, and says why."""
    with UsageStore.open(Path("usage.db")) as store:
        store.ingest([_tool_call(NOW - timedelta(minutes=m), "edit", m) for m in range(1, 4)]
                     + [_tool_call(NOW - timedelta(minutes=5), "bash", 9)])
    async with fit_app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle_usage(pilot)
        for _ in range(4):
            await pilot.press("b")
        await pilot.pause(0.05)
        text = "\n".join(screen_lines(fit_app))
        assert "By tool: calls" in text
        edit = next(line for line in text.splitlines() if "│ edit" in line)
        assert re.search(r"edit\s+3\s+75%", edit), edit
        assert "$0.00" not in text and "0%" not in edit
        assert "tokens: per message" in text  # 80 columns: the short form


@pytest.mark.parametrize(("size", "words"), [
    ((60, 20), "usage · 24 h"),
    ((80, 24), "usage · rolling 24 h"),
    ((120, 40), "usage · rolling 24 h · since 2026-05-04 12:30"),
])
async def test_the_window_is_defined_on_screen(fit_app: TokentopApp, size: tuple[int, int],
                                               words: str, monkeypatch: pytest.MonkeyPatch,
                                               ) -> None:
    """Issue 17 defect 4: 1d is the 24 hours up to now (rolling), said so; month is the
    calendar month to date."""
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()
    async with fit_app.run_test(size=size) as pilot:
        await pilot.press("2")
        await settle_usage(pilot)
        top = screen_lines(fit_app)[1]  # row 0: the screen bar
        assert words in top, top
        if size[0] >= 120:
            for _ in range(4):
                await pilot.press("r")
            await settle_usage(pilot)
            top = screen_lines(fit_app)[1]  # row 0: the screen bar
            assert "this month (UTC) to date · since 2026-05-01 00:00" in top, top


async def test_cost_per_day(fit_app: TokentopApp) -> None:
    """Wish: the per-day panel shows each day's cost beside its tokens."""
    async with fit_app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle_usage(pilot)
        text = "\n".join(screen_lines(fit_app))
        assert "Per day (UTC)" in text
        day = next(line for line in text.splitlines() if "May 05" in line)
        assert re.search(r"May 05 █+\s+4\.5M \$1\.65", day), day


@pytest.mark.parametrize("found", [False, True])
async def test_empty_screen_says_whether_any_agent_log_was_found(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, found: bool) -> None:
    """Issue 17 defect 12: the empty screen names the places watched per agent and
    says, in so many words, that none was found (or which were)."""
    from tokentop.store.usage.agents import locations

    for loc in locations():
        for var in loc.env:
            monkeypatch.delenv(var, raising=False)
    for var in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(var, str(tmp_path / "home"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    if found:
        (tmp_path / "home" / ".codex" / "sessions").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    UsageStore.open(Path("usage.db")).close()
    app = TokentopApp(MetricsSource("absent", clock=fixed_clock), clock=fixed_clock,
                      follow=False, usage_path=Path("usage.db"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        screen = cast(UsageScreen, app.screen)
        await settle_usage(pilot, lambda: bool(screen.locations))
        text = "\n".join(screen_lines(app))
        assert str(tmp_path / "home" / ".claude" / "projects") in text
        if found:
            assert "Found: Codex (nothing of theirs in this window)." in text
        else:
            assert "None of these was found: no agent logs on this machine." in text


async def test_sessions_view_and_drill_down(fit_app: TokentopApp) -> None:
    """Wish: ``b`` reaches the window's sessions (latest first); ``enter`` opens one
    session's models and messages; ``esc`` goes back."""
    from tokentop.tui.screens.usage_session import SessionScreen
    from tokentop.tui.widgets.session_table import SessionTable

    async with fit_app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle_usage(pilot)
        screen = cast(UsageScreen, fit_app.screen)
        await pilot.press("B")  # back one from model: the sessions
        await settle_usage(pilot, lambda: bool(screen.sessions))
        table = screen.query_one("#sessions", SessionTable)
        assert [r.session_id for r in table.rows_shown] == ["s0", "s1", "s2"]
        text = "\n".join(screen_lines(fit_app))
        assert "Sessions, latest first" in text and "enter: messages" in text
        await pilot.press("down", "enter")
        for _ in range(200):
            top = fit_app.screen
            if isinstance(top, SessionScreen) and top.detail is not None:
                break
            await pilot.pause(0.02)
        top = fit_app.screen
        assert isinstance(top, SessionScreen) and top.row.session_id == "s1"
        assert top.detail is not None and len(top.detail.messages) == 5
        await pilot.pause(0.05)
        text = "\n".join(screen_lines(fit_app))
        # Five models, one message each at $0.11; the names stay whole at 80 columns.
        for model in MODELS:
            assert model in text, text
        assert "$0.55" in text and "5 messages" in text, text
        await pilot.press("escape")
        assert fit_app.screen is screen
        # Back on the list, the cursor is where it was and keys still move it.
        await pilot.press("down", "enter")
        await pilot.pause(0.05)
        top = fit_app.screen
        assert isinstance(top, SessionScreen) and top.row.session_id == "s2"


async def test_the_session_cursor_follows_its_session(fit_app: TokentopApp) -> None:
    """Latest first reorders the list when another session speaks: the cursor stays on
    the session the user picked, not on its old row."""
    from tokentop.tui.widgets.session_table import SessionTable

    async with fit_app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle_usage(pilot)
        screen = cast(UsageScreen, fit_app.screen)
        await pilot.press("B")
        await settle_usage(pilot, lambda: bool(screen.sessions))
        table = screen.query_one("#sessions", SessionTable)
        await pilot.press("down", "down")
        assert table.rows_shown[table.cursor_row].session_id == "s2"
        newest = [r for r in table.rows_shown if r.session_id == "s2"]
        table.show([*newest, *[r for r in table.rows_shown if r.session_id != "s2"]])
        assert table.cursor_row == 0 and table.rows_shown[0].session_id == "s2"


async def test_a_hostile_session_id_is_shown_as_text(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A session id from an agent log is never read as markup (``[bold]…``)."""
    from tokentop.tui.screens.usage_session import SessionScreen

    monkeypatch.chdir(tmp_path)
    with UsageStore.open(Path("usage.db")) as store:
        store.ingest([IngestRequest(
            source_system="claude_code", source_channel="jsonl",
            occurred_at=NOW - timedelta(minutes=5), message_id="m1",
            session_id="[bold red]x[/]\x1b[2J", workspace_id="[link=x]p",
            provider_id="anthropic", agent_name="claude_code", model_raw="claude-opus-4-6",
            input_tokens=10, output_tokens=1, cost_usd=0.01)])
    app = TokentopApp(MetricsSource("absent", clock=fixed_clock), clock=fixed_clock,
                      follow=False, usage_path=Path("usage.db"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        screen = cast(UsageScreen, app.screen)
        await settle_usage(pilot)
        await pilot.press("B")
        await settle_usage(pilot, lambda: bool(screen.sessions))
        await pilot.press("enter")
        for _ in range(200):
            if isinstance(app.screen, SessionScreen) and app.screen.detail is not None:
                break
            await pilot.pause(0.02)
        await pilot.pause(0.05)
        text = "\n".join(screen_lines(app))
        assert "Session [bold red]x[/]" in text and "[link=x]p" in text, text
        assert "\x1b" not in text
