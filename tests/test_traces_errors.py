"""Issue 17, defect 3: a bad store path, a bad diagnostics URL or an unreachable
PostgreSQL must not leave the Traces screen "opening the trace store…" forever, nor
cut the error mid-word. Every error is shown whole (wrapped), in one place, at once;
the store is tried again every few seconds, so a file that appears later is read."""

from __future__ import annotations

import socket
from pathlib import Path

from conftest import NOW
from test_traces_screen import open_traces, traces_app, wait_for
from textual.widgets import Label, Static

from tokentop.tui.demo.traces import build_demo_traces
from tokentop.tui.screens.traces import TracesScreen


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _message(screen: TracesScreen) -> str:
    return " ".join(str(screen.query_one("#traces-message", Static).render()).split())


def _status(screen: TracesScreen) -> str:
    return str(screen.query_one("#traces-status", Label).render())


async def test_missing_store_and_bad_diagnostics_shown_whole_at_60x20(tmp_path: Path) -> None:
    missing = tmp_path / "a-rather-long-directory-name" / "nowhere" / "traces.db"
    port = _closed_port()
    app = traces_app(missing, f"http://127.0.0.1:{port}/diagnostics/trace-pipeline")
    async with app.run_test(size=(60, 20)) as pilot:
        screen = await open_traces(pilot)
        await wait_for(pilot, lambda: screen.diagnostics_error is not None, "diagnostics")
        await pilot.pause()
        message = _message(screen)
        assert str(missing) in message  # whole, wrapped over lines, not cut at 60
        assert f"127.0.0.1:{port}/diagnostics/trace-pipeline" in message
        assert "opening the trace store" not in _status(screen)
        assert "retrying" in _status(screen)
        assert "diagnostics" not in _status(screen)  # one place: the message


async def test_unreachable_postgres_is_said_promptly() -> None:
    port = _closed_port()
    app = traces_app(f"postgresql://user@127.0.0.1:{port}/gateway")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_traces(pilot)
        await pilot.pause()
        message = _message(screen)
        assert "cannot connect to PostgreSQL" in message and message.rstrip().endswith(")")
        assert "opening the trace store" not in _status(screen)


async def test_a_store_that_appears_later_is_read(tmp_path: Path) -> None:
    root = tmp_path / "gw"
    app = traces_app(root / "traces.db")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_traces(pilot)
        assert screen.error is not None
        demo = build_demo_traces(seed=7, now=NOW, root=root, count=50)
        try:
            await wait_for(pilot, lambda: screen.error is None and bool(screen.rows),
                           "the retried read")
            await pilot.pause()
            assert not screen.query_one("#traces-message").display
            assert "sqlite · read-only" in _status(screen)
        finally:
            demo.stop()
