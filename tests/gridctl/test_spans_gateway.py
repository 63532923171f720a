"""Spans as current gridctl writes them for one tools/call: root, routing, client call.

The spans come from ``gridlog_lines.gateway_call``, which follows ``HandleToolsCall``
in gridctl/gridctl pkg/mcp/gateway.go (@7cec407): ``tool.name`` on ``mcp.routing``
(prefixed) and ``mcp.client.call_tool``, ``mcp.tool.name`` on the call only when it
succeeded, and an ``exception`` event (``span.RecordError``) when it failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gridlog_lines import T0, envelope, gateway_call, hex_id, tool_span, write
from rich.console import Console

from tokentop.store.gridctl.spans import parse_envelope, waterfall
from tokentop.tui.widgets.span_text import span_detail_lines, span_row

NS = 1_000_000_000
TRACE = hex_id(900, 16)
IDS = (hex_id(901, 8), hex_id(902, 8), hex_id(903, 8))
# What the server said, with Rich markup and an escape sequence in it: shown as text.
HOSTILE = "dial tcp: [bold red]refused[/] \x1b[2J"


def _failed() -> str:
    return envelope(gateway_call(TRACE, IDS, "github", "create_issue", T0, 2 * NS,
                                 error="calling tool: connection reset by peer"))


def test_a_failed_call_shows_its_tool_and_its_exception() -> None:
    spans, bad = parse_envelope(_failed(), "prod/github")
    assert bad == 0
    root, route, call = spans
    assert "mcp.tool.name" not in call.attrs  # gridctl sets it on successful calls only
    assert call.tool == "create_issue"  # from tool.name
    assert call.is_error and call.status_message == "calling tool: connection reset by peer"
    [event] = call.events
    assert (event.name, event.time_ns) == ("exception", T0 + 2 * NS - 2_000)
    assert event.attrs == {"exception.type": "*errors.errorString",
                           "exception.message": "calling tool: connection reset by peer"}
    assert event.message == "*errors.errorString: calling tool: connection reset by peer"
    assert "exception" in call.search_text and "connection reset" in call.search_text
    # mcp.routing: tool.name is the prefixed name the client called; the step is no row.
    assert route.attrs["tool.name"] == "github__create_issue"
    assert route.tool == "create_issue" and not route.is_call
    # One row per call: the client call; the gateway root is its envelope.
    assert root.tool == "create_issue" and root.is_gateway_root and not root.is_call
    assert call.is_call and not call.is_gateway_root
    assert [r.span.name for r in waterfall(spans)] == [
        "github › create_issue", "mcp.routing", "mcp.client.call_tool"]


def test_a_successful_call_keeps_mcp_tool_name_and_has_no_events() -> None:
    line = envelope(gateway_call(TRACE, IDS, "github", "search_code", T0, NS,
                                 inp=900, out=350))
    _, _, call = parse_envelope(line, "prod/github")[0]
    assert (call.tool, call.client, call.events) == ("search_code", "claude-code", [])
    assert call.tokens == {"input_tokens": 900, "output_tokens": 350}


def test_an_older_writers_root_span_is_still_the_call() -> None:
    """A root ``tools/call <tool>`` span with the tool, client and tokens on it (as
    older writers and other OTLP producers write them) stays the call's row."""
    [old] = parse_envelope(envelope([tool_span(TRACE, IDS[0], "search_code", T0, NS)]),
                           "prod/github")[0]
    assert old.is_call and not old.is_gateway_root
    pre_routing = gateway_call(TRACE, IDS, "github", "x", T0, NS)[0]
    pre_routing["name"] = "mcp.tools.call"  # the root before routing renamed it
    [root] = parse_envelope(envelope([pre_routing]), "prod/github")[0]
    assert root.is_gateway_root and not root.is_call


def test_the_row_of_a_failed_call_names_the_tool() -> None:
    call = parse_envelope(_failed(), "prod/github")[0][2]
    row = span_row(call, 120).plain
    assert "create_issue" in row and "ERROR" in row and "connection reset by peer" in row


def test_the_detail_shows_events_escaped_never_as_markup() -> None:
    line = envelope(gateway_call(TRACE, IDS, "github", "create_issue", T0, 2 * NS,
                                 error=HOSTILE))
    call = parse_envelope(line, "prod/github")[0][2]
    detail = span_detail_lines(call)
    plain = detail.plain
    assert "            event  +2 s exception\n" in plain  # its offset in the span
    assert "exception.type: *errors.errorString" in plain
    assert "exception.message: dial tcp: [bold red]refused[/] \\x1b[2J" in plain
    assert "\x1b" not in plain
    with open(os.devnull, "w") as sink:
        console = Console(width=200, color_system=None, record=True, file=sink)
        console.print(detail)
    out = console.export_text()
    assert "[bold red]refused[/]" in out  # printed as written: not taken for markup


def test_headless_spans_json_has_tool_and_events(tmp_path: Path) -> None:
    root = tmp_path / "telemetry"
    write(root / "prod" / "github" / "traces.jsonl", [_failed()])
    res = subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "spans", str(root)],
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "TZ": "UTC"},
                         cwd=Path(__file__).resolve().parents[2])
    assert res.returncode == 0, res.stderr
    docs = [json.loads(x) for x in res.stdout.splitlines()]
    call = next(d for d in docs if d["name"] == "mcp.client.call_tool")
    assert call["tool"] == "create_issue"
    assert call["status"] == {"code": "ERROR",
                              "message": "calling tool: connection reset by peer"}
    assert call["events"] == [{
        "time": "2026-05-05T12:00:01.999998Z", "name": "exception",
        "attributes": {"exception.type": "*errors.errorString",
                       "exception.message": "calling tool: connection reset by peer"}}]
    assert next(d for d in docs if d["name"] == "mcp.routing")["events"] == []
