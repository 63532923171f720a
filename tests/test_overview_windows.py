"""Overview items of issue 17: one rolling definition of every range, stated on screen
(defect 4); a server with no cost data reads ``—`` in the Cost card as in the list
(defect 6); a counter reset inside the range is marked where the total would otherwise
contradict the range's sum (defect 11)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import NOW, NOW_MINUTE, make_app, settle

from tokentop.store.metrics import window
from tokentop.store.metrics.replay import MetricsState
from tokentop.tui.app import TokentopApp
from tokentop.tui.screens.overview import OverviewScreen
from tokentop.tui.widgets.kpi import KpiCard
from tokentop.tui.widgets.server_list import RESET_MARK, RESET_NOTE, ServerList


def overview(app: TokentopApp) -> OverviewScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, OverviewScreen)
    return screen


def test_every_range_is_rolling() -> None:
    ring = MetricsState().ring
    for name, length in (("30m", 30), ("6h", 360), ("24h", 1440), ("7d", 10080)):
        win = window(ring, name, NOW_MINUTE)
        assert (win.start, win.end) == (NOW_MINUTE - length + 1, NOW_MINUTE), name
    # 12:30 now: the day starts at 12:31 yesterday, not at 13:00 (23 hours and this one).
    day = window(ring, "24h", NOW_MINUTE)
    assert day.start * 60 == (NOW - timedelta(hours=24)).timestamp() + 60


@pytest.mark.parametrize(("width", "words"), [
    (120, "last 24 hours, rolling since Mon 12:31"),
    (80, "fleet · since 12:31"),
])
async def test_the_scope_states_the_window(app: TokentopApp, width: int, words: str) -> None:
    async with app.run_test(size=(width, 30)) as pilot:
        await settle(pilot)
        await pilot.press("r", "r", "r")  # 24h
        await settle(pilot)
        scope = str(overview(app).query_one("#scope").render())
        assert words in scope


async def test_a_server_without_cost_reads_a_dash_in_the_card(app: TokentopApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = overview(app)
        screen.selected = "dev/idle"  # never wrote a line, so never a cost
        await settle(pilot)
        assert screen.query_one("#kpi-cost", KpiCard).value == "—"
        row = next(r for r in screen.query_one(ServerList).rows if r.name == "dev/idle")
        assert row.total_cost_micro is None  # the list's "—"


def _line(ts: datetime, diff: int, total: int, *, reset: bool = False) -> str:
    tokens = {"input_tokens": diff, "output_tokens": 0, "total_tokens": diff}
    totals = {"input_tokens": total, "output_tokens": 0, "total_tokens": total}
    line: dict[str, object] = {"ts": ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "server": "api"}
    if reset:
        line = {"reset": True, **line}
    line |= {"diff": tokens, "total": totals}
    return json.dumps(line)


@pytest.fixture
def restarted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TokentopApp:
    """prod/api: 20 minutes of 1,000 a minute, a restart at 12:20, then 100 a minute."""
    d = tmp_path / "telemetry" / "prod" / "api"
    d.mkdir(parents=True)
    lines, total = [], 0
    start = NOW - timedelta(minutes=40)
    for i in range(20):
        total += 1000
        lines.append(_line(start + timedelta(minutes=i, seconds=5), 1000, total))
    restart = NOW - timedelta(minutes=10)
    lines.append(json.dumps({"reset": True, "ts": restart.strftime("%Y-%m-%dT%H:%M:%SZ"),
                             "server": "api"}))
    lines.append(_line(restart, 0, 0, reset=True))
    total = 0
    for i in range(1, 10):
        total += 100
        lines.append(_line(restart + timedelta(minutes=i), 100, total))
    (d / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(tmp_path)
    return make_app("telemetry")


async def test_a_reset_in_range_is_marked(restarted: TokentopApp) -> None:
    async with restarted.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        servers = overview(restarted).query_one(ServerList)
        (row,) = servers.rows
        assert row.range_tokens > row.total_tokens  # what read as a contradiction
        assert row.reset_in_range
        prompt = str(servers.options.get_option_at_index(0).prompt)
        assert f"{RESET_MARK}900" in prompt
        assert str(servers.border_subtitle) == RESET_NOTE
        await pilot.press("r")  # 1h: the reset is still inside
        await settle(pilot)
        assert servers.rows[0].reset_in_range


async def test_a_reset_before_the_range_is_not_marked(restarted: TokentopApp) -> None:
    # At 12:30 the 30m range starts at 12:01: the 12:20 restart is inside; with the
    # clock two hours on, no range up to 1h holds it.
    restarted.clock = lambda: NOW.timestamp() + 2 * 3600  # type: ignore[method-assign]
    async with restarted.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        servers = overview(restarted).query_one(ServerList)
        assert not servers.rows[0].reset_in_range
        assert RESET_MARK not in str(servers.options.get_option_at_index(0).prompt)
        assert not servers.border_subtitle
