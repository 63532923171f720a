"""The Spans screen over spans as current gridctl writes them (gateway.go @7cec407).

One successful and one failed ``tools/call`` (``gridctl.gridlog_lines.gateway_call``):
the failed ``mcp.client.call_tool`` has no ``mcp.tool.name`` and must still show its
tool, its status and, in the waterfall's detail, its ``exception`` event as text.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gridctl.gridlog_lines import T0, envelope, gateway_call, hex_id, write
from test_logs_screen import gridlogs_app, open_screen, shown
from textual.widgets import Static

from tokentop.store.gridctl.spans import Span
from tokentop.tui.screens.spans import SpansScreen
from tokentop.tui.widgets.log_view import RecordList

NS = 1_000_000_000
ERROR = "calling tool: [b]connection[/b] reset"  # markup-like: must show as written


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    ok = gateway_call(hex_id(1, 16), (hex_id(11, 8), hex_id(12, 8), hex_id(13, 8)),
                      "github", "search_code", T0 - 60 * NS, NS, inp=900, out=350)
    failed = gateway_call(hex_id(2, 16), (hex_id(21, 8), hex_id(22, 8), hex_id(23, 8)),
                          "github", "create_issue", T0 - 30 * NS, 2 * NS, error=ERROR)
    write(tmp_path / "telemetry" / "prod" / "github" / "traces.jsonl",
          [envelope(ok), envelope(failed)])
    return tmp_path / "telemetry"


async def test_failed_call_shows_its_tool_and_exception(root: Path) -> None:
    app = gridlogs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, "8")
        assert isinstance(screen, SpansScreen)
        rows: list[Span] = shown(screen)  # type: ignore[assignment]
        # One row per call, its mcp.client.call_tool span: neither the gateway root
        # (the call's envelope) nor the mcp.routing step has a row of its own.
        assert [(s.name, s.tool, s.status, s.client) for s in rows] == [
            ("mcp.client.call_tool", "search_code", "UNSET", "claude-code"),
            ("mcp.client.call_tool", "create_issue", "ERROR", "")]
        await pilot.press("a")
        assert len(shown(screen)) == 6  # every span, routing included
        await pilot.press("a", "end", "enter")
        assert screen.query_one(RecordList).selected is rows[-1]
        body = screen.query_one("#spans-detail-body", Static)
        text = "\n".join(line.text for line in body.render_lines(body.region.reset_offset))
        assert "mcp.routing" in text and "mcp.client.call_tool" in text
        assert "event  +2 s exception" in text
        assert f"exception.message: {ERROR}" in text
        assert f"status  ERROR: {ERROR}" in text
