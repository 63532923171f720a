"""The Spans screen (8) driven as a user would: the span table and a trace waterfall."""

from __future__ import annotations

from pathlib import Path

import pytest
from gridctl.gridlog_lines import T0, append, envelope, tool_span, write_fixed_tree
from test_logs_screen import gridlogs_app, open_screen, shown, wait_for
from textual.widgets import Static

from tokentop.tui.screens.spans import SpansScreen
from tokentop.tui.widgets.log_view import RecordList

NS = 1_000_000_000


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_fixed_tree(tmp_path / "telemetry")
    return tmp_path / "telemetry"


async def test_tool_calls_per_server_and_all_spans(root: Path) -> None:
    app = gridlogs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, "8")
        assert isinstance(screen, SpansScreen)
        assert len(shown(screen)) == 36 + 8  # tool calls: github (.gz + active), slack
        starts = [s.start_ns for s in shown(screen)]  # type: ignore[attr-defined]
        assert starts == sorted(starts)
        header = str(screen.query_one("#spans-header").render())
        for column in ("time", "server", "tool", "client", "duration", "status", "tokens"):
            assert column in header
        await pilot.press("s", "s", "s")  # all -> dev/idle -> dev/search -> prod/github
        assert screen.server == "prod/github" and len(shown(screen)) == 36
        assert "server" not in str(screen.query_one("#spans-header").render())
        await pilot.press("a")
        assert len(shown(screen)) == 108  # every span of every trace
        await pilot.press("a", "slash", *"cursor", "enter")
        assert shown(screen) and all(
            s.client == "cursor" for s in shown(screen))  # type: ignore[attr-defined]


async def test_enter_opens_the_waterfall_of_the_rows_trace(root: Path) -> None:
    app = gridlogs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, "8")
        await pilot.press("s", "s", "s", "up", "enter")
        pane = screen.query_one("#spans-detail")
        assert pane.display
        chosen = screen.query_one(RecordList).selected
        assert str(pane.border_title).startswith(f"trace {chosen.trace_id[:12]}… · 3 spans")
        body = screen.query_one("#spans-detail-body", Static)
        lines = [line.text for line in body.render_lines(body.region.reset_offset)]
        text = "\n".join(lines)
        assert f"tools/call {chosen.tool}" in text
        assert "  mcp.transport.send" in text and "    POST api.github.com" in text
        assert text.count("█") > 10  # bars drawn
        assert "mcp.client.name" in text  # the chosen span's attributes below
        await pilot.press("enter")  # enter again closes it
        assert not pane.display


async def test_new_batches_appear_live(root: Path) -> None:
    app = gridlogs_app(follow=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, "8")
        before = len(shown(screen))
        append(root / "prod" / "slack" / "traces.jsonl", envelope(
            [tool_span("ab" * 16, "cd" * 8, "post_message", T0 + 5 * NS, NS, server="slack")],
            [tool_span("ab" * 16, "ce" * 8, "list_channels", T0 + 6 * NS, NS, server="slack",
                       parent="cd" * 8)]) + "\n")
        await wait_for(pilot, lambda: len(shown(screen)) == before + 2, "the new spans")
        assert [s.tool for s in shown(screen)[-2:]] == [
            "post_message", "list_channels"]  # type: ignore[attr-defined]


async def test_empty_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = gridlogs_app("missing-root")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, "8")
        empty = screen.query_one("#spans-empty", Static)
        assert empty.display
        text = str(empty.render())
        assert "missing-root" in text and "does not exist" in text
        assert "<stack>/<server>/traces.jsonl" in text
