"""The dashboard on a team store (``--store postgresql://...``), on the real PostgreSQL
of tests/conftest.py: the Usage screen shows what other machines pushed plus what this
machine collects, and says in its status line when the server cannot be reached (one
line, the password masked), the rest of the dashboard still working."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import USAGE_SONNET, fixed_clock, settle_usage
from textual.widgets import Label

from tokentop.store.metrics import MetricsSource
from tokentop.store.usage.collect import collect_once
from tokentop.store.usage.team import sync
from tokentop.tui.app import TokentopApp
from tokentop.tui.screens.help import data_rows
from tokentop.tui.widgets.kpi import KpiCard


def _claude_line(msg: str, session: str, tokens: int) -> str:
    return json.dumps({
        "cwd": "/home/u/app", "sessionId": session, "type": "assistant",
        "requestId": f"req_{msg}", "uuid": f"u-{msg}", "timestamp": "2026-05-05T12:20:00.000Z",
        "message": {"id": msg, "role": "assistant", "model": USAGE_SONNET,
                    "usage": {"input_tokens": tokens - 100, "output_tokens": 100,
                              "cache_creation_input_tokens": 0,
                              "cache_read_input_tokens": 0}}},
        separators=(",", ":"))  # as Claude Code writes it (the collector's fast path)


def _machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str,
             *lines: str) -> Path:
    claude = tmp_path / name / "claude"
    project = claude / "projects" / "-home-u-app"
    project.mkdir(parents=True)
    (project / "s.jsonl").write_text("".join(line + "\n" for line in lines))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / name / "codex"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / name / "state"))
    return claude


def _status(app: TokentopApp) -> str:
    return str(app.screen.query_one("#usage-status", Label).render())


def _tokens(app: TokentopApp) -> str:
    return {c.id: c.value for c in app.screen.query(KpiCard)}["ukpi-tokens"]


async def test_usage_screen_shows_every_machine(pg_server, tmp_path, monkeypatch) -> None:
    url = pg_server.create_database("dash")
    # another machine pushed 3,000 tokens, and the shared message both saw
    _machine(tmp_path, monkeypatch, "other", _claude_line("msg_b", "s-b", 3000),
             _claude_line("msg_shared", "s-x", 500))
    sync.ingest(url, collect_once)
    # this machine: 1,200 tokens of its own, and the shared message again
    _machine(tmp_path, monkeypatch, "here", _claude_line("msg_a", "s-a", 1200),
             _claude_line("msg_shared", "s-x", 500))
    app = TokentopApp(MetricsSource(tmp_path / "none", clock=fixed_clock), clock=fixed_clock,
                      follow=False, usage_path=sync.prepare_replica(url), usage_team=url)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle_usage(pilot, lambda: _tokens(app) == "4.7k")
        assert "team store, synced" in _status(app)
        assert url.split("@", 1)[1] in _status(app)


async def test_an_unreachable_server_is_a_status_line(pg_server, tmp_path,
                                                      monkeypatch) -> None:
    from pg_server import free_port

    url = f"postgresql://bob:s3cret@127.0.0.1:{free_port()}/team"
    _machine(tmp_path, monkeypatch, "here", _claude_line("msg_a", "s-a", 1200))
    app = TokentopApp(MetricsSource(tmp_path / "none", clock=fixed_clock), clock=fixed_clock,
                      follow=False, usage_path=sync.prepare_replica(url), usage_team=url)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("2")
        await settle_usage(pilot, lambda: "team store:" in _status(app))
        status = _status(app)
        assert "team store: cannot connect to PostgreSQL" in status and "\n" not in status
        assert "s3cret" not in status and "bob:***@" in status
        usage = dict(data_rows(app))["usage"]  # the help names the store, masked
        assert "(team store;" in usage and "bob:***@" in usage and "s3cret" not in usage
        await pilot.press("1")  # the rest keeps working
        await pilot.pause()
        assert app.screen.id != "usage"
