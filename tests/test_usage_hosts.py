"""The Usage screen with events from more than one box (``--host``): a ``host`` view that
``b`` offers only then, the dashboard collecting a real box over a real sshd, and a box
that cannot be reached named in the status line with its last read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import USAGE_SONNET, fixed_clock, settle_usage, write_usage_store
from support import sshd
from test_usage_snapshots import SIZES, SnapCompare, on_usage
from textual.widgets import Label

from tokentop.store.metrics import MetricsSource
from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.model import IngestRequest
from tokentop.tui.app import TokentopApp
from tokentop.tui.screens.usage import UsageScreen
from tokentop.tui.widgets.breakdown import BreakdownTable


def remote_message(host: str, tokens: int, minute: int) -> IngestRequest:
    return IngestRequest(
        source_system="claude_code", source_channel="jsonl",
        occurred_at=datetime(2026, 5, 5, 12, minute, tzinfo=UTC),
        message_id=f"m-{host}-{minute}", session_id=f"s-{host}", workspace_id="/home/u/app",
        provider_id="anthropic", agent_name="claude_code", model_raw=USAGE_SONNET,
        input_tokens=tokens, cost_usd=0.25, host=host)


@pytest.fixture
def hosts_app(usage_app: TokentopApp) -> TokentopApp:
    """The fixed store plus two messages read on gpu1 over ssh."""
    with UsageStore.open(Path("usage.db")) as store:
        store.ingest([remote_message("alice@gpu1", 9000, 20),
                      remote_message("alice@gpu1", 1000, 21)])
    return usage_app


def screen(app: TokentopApp) -> UsageScreen:
    assert isinstance(app.screen, UsageScreen)
    return app.screen


def host_table(app: TokentopApp) -> dict[str, int]:
    view = screen(app).view
    assert view is not None
    return {r.key: r.sums.tokens for r in view.breakdowns["host"]}


async def test_b_offers_hosts_once_there_is_more_than_one(hosts_app: TokentopApp) -> None:
    async with hosts_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle_usage(pilot)
        kinds = screen(hosts_app).kinds
        assert "host" in kinds
        while screen(hosts_app).breakdown != "host":
            await pilot.press("b")
            await pilot.pause()
        table = screen(hosts_app).query_one("#breakdown", BreakdownTable)
        keys = [str(table.get_row_at(i)[0]).strip() for i in range(table.row_count)]
        assert keys == ["alice@gpu1", "local"]
        got = host_table(hosts_app)
        # the fixed store's day is 5.7k tokens (test_usage_screen), all of it local
        assert got == {"alice@gpu1": 10000, "local": 5700}
        assert "host" in str(table.border_subtitle) or table.border_subtitle == "b: next view"


async def test_one_host_has_no_host_view(usage_app: TokentopApp) -> None:
    async with usage_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle_usage(pilot)
        assert "host" not in screen(usage_app).kinds
        view = screen(usage_app).view
        assert view is not None and "host" not in view.breakdowns


@pytest.mark.parametrize("size", [s for s in SIZES if s.id != "200x60"])
def test_by_host_snapshot(snap_compare: SnapCompare, hosts_app: TokentopApp,
                          size: tuple[int, int]) -> None:
    hook = on_usage("b", "b", "b", "b", "b")  # model -> provider, agent, project, tool, host
    assert snap_compare(hosts_app, terminal_size=size, run_before=hook)


# -- the dashboard collecting a real box --------------------------------------------------


@pytest.fixture
def box(monkeypatch: pytest.MonkeyPatch) -> Iterator[sshd.Sshd]:
    with sshd.running(monkeypatch, "Host gone\n  HostName 127.0.0.1\n  Port 1\n") as server:
        yield server


async def test_the_dashboard_collects_a_box_and_names_one_it_cannot_reach(
        box: sshd.Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    db = tmp_path / "usage.db"
    write_usage_store(db)  # this machine's own events
    project = box.home / ".claude" / "projects" / "-home-u-app"
    project.mkdir(parents=True)
    line = {"cwd": "/home/u/app", "sessionId": "s-box", "type": "assistant",
            "requestId": "req_b", "uuid": "ub", "timestamp": "2026-05-05T12:25:00.000Z",
            "message": {"id": "msg_box", "role": "assistant", "model": USAGE_SONNET,
                        "usage": {"input_tokens": 3000, "output_tokens": 100,
                                  "cache_creation_input_tokens": 0,
                                  "cache_read_input_tokens": 0}}}
    (project / "s.jsonl").write_text(json.dumps(line, separators=(",", ":")) + "\n")
    app = TokentopApp(MetricsSource(tmp_path / "none", clock=fixed_clock), clock=fixed_clock,
                      follow=False, usage_path=db, usage_collect=True,
                      remote_hosts=("box", "gone"))
    async with app.run_test(size=(200, 40)) as pilot:
        await pilot.press("2")

        def arrived() -> bool:
            view = screen(app).view
            return view is not None and "host" in view.breakdowns

        await settle_usage(pilot, arrived)
        assert host_table(app) == {"box": 3100, "local": 5700}

        def named() -> bool:
            return "gone unreachable" in str(
                screen(app).query_one("#usage-status", Label).render())

        await settle_usage(pilot, named)
        status = str(screen(app).query_one("#usage-status", Label).render())
        assert "gone unreachable, last read never · ssh: connect to host" in status
        assert "box unreachable" not in status
