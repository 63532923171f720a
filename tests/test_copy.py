"""``y`` copies the selected row's id or JSON, on every screen with a selection.

Pilot tests on fixed data: the raw value reaches ``App.copy_to_clipboard`` (the OSC 52
write; ``app.clipboard`` keeps it) and one line confirms it, as plain text (never
markup), with credentials redacted and controls escaped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import NOW, settle, settle_usage
from gridctl.gridlog_lines import write_fixed_tree
from test_events_screen import envelopes, ev, events_app, open_events
from test_logs_screen import gridlogs_app, open_screen
from test_sorting import open_files
from test_traces_screen import open_traces, traces_app
from textual.widgets import DataTable

from tokentop.tui.app import TokentopApp
from tokentop.tui.demo.traces import DemoTraces, build_demo_traces
from tokentop.tui.screens.usage import UsageScreen
from tokentop.tui.widgets.copy import preview
from tokentop.tui.widgets.event_log import EventLog
from tokentop.tui.widgets.files_table import FilesTable
from tokentop.tui.widgets.log_view import RecordList
from tokentop.tui.widgets.server_list import ServerList
from tokentop.tui.widgets.session_table import SessionTable


class Recorder:
    """What ``copy_to_clipboard`` and ``notify`` received."""

    def __init__(self, app: TokentopApp) -> None:
        self.copied: list[str] = []
        self.notes: list[tuple[str, dict[str, Any]]] = []
        copy, notify = app.copy_to_clipboard, app.notify

        def copy_to_clipboard(text: str) -> None:
            self.copied.append(text)
            copy(text)

        def notify_(message: str, **kw: Any) -> None:
            self.notes.append((message, kw))
            notify(message, **kw)

        app.copy_to_clipboard = copy_to_clipboard  # type: ignore[method-assign]
        app.notify = notify_  # type: ignore[method-assign]

    @property
    def note(self) -> str:
        message, kw = self.notes[-1]
        assert kw.get("markup") is False  # a value never reaches markup
        return message


# -- the confirmation ----------------------------------------------------------------------

def test_preview_is_short_redacted_and_escaped() -> None:
    assert preview("7f3a9c0e") == "7f3a9c0e"
    assert preview("x" * 80) == "x" * 31 + "…"
    header = preview('{"authorization": ["Bearer sk-live-123456789"]}')
    assert header.startswith('{"authorization":["Bearer [reda') and "sk-live" not in header
    assert "hunter2" not in preview("postgresql://u:hunter2@db/x")
    assert "sk-abcdefgh" not in preview("Bearer sk-abcdefghijkl")
    assert preview("[bold]a\x1b[31m\nb") == "[bold]a\\x1b[31m b"


# -- each screen ---------------------------------------------------------------------------

async def test_overview_copies_the_server(app: TokentopApp) -> None:
    seen = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        servers = app.screen.query_one(ServerList)
        servers.options.highlighted = 1
        await pilot.press("y")
        name = servers.rows[1].name
        assert seen.copied == [name] and app.clipboard == name
        assert seen.note == f"copied server {name}"


async def test_usage_copies_the_session_id(usage_app: TokentopApp) -> None:
    seen = Recorder(usage_app)
    async with usage_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle_usage(pilot)
        await pilot.press("y")  # a breakdown: no row to copy
        assert seen.copied == [] and seen.note == "nothing to copy: no session id selected"
        screen = usage_app.screen
        assert isinstance(screen, UsageScreen)
        screen.breakdown = "session"
        table = screen.query_one("#sessions", SessionTable)
        await settle_usage(pilot, lambda: bool(table.rows_shown))
        await pilot.press("down", "y")
        picked = table.rows_shown[1].session_id
        assert seen.copied == [picked] and seen.note == f"copied session id {picked}"


async def test_files_copies_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gridctl.files_tree import screen_tree
    from test_sorting import make_app

    monkeypatch.chdir(tmp_path)
    screen_tree(Path("telemetry"))
    app = make_app("telemetry")
    seen = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_files(pilot)
        await pilot.press("down", "y")
        record = screen.query_one(FilesTable).selected
        assert record is not None
        assert seen.copied == [str(record.path)]
        assert seen.note == f"copied path {preview(str(record.path))}"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTraces]:
    demo = build_demo_traces(seed=3, now=NOW, root=tmp_path_factory.mktemp("copy") / "gw",
                             count=60)
    yield demo
    demo.stop()


async def test_traces_copies_the_trace_id(gateway: DemoTraces) -> None:
    app = traces_app(gateway.path)
    seen = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_traces(pilot)
        await pilot.press("down", "down", "y")
        trace_id = screen.rows[2].id
        assert seen.copied == [trace_id]
        assert seen.note == f"copied trace id {preview(trace_id)}"
        assert screen.query_one("#traces-table", DataTable).cursor_row == 2


async def test_events_copies_the_event_json(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    secret = "https://admin:hunter2@shop.example.com/api"
    path.write_text(envelopes([
        (1, ev(0, "console_log", "console", {"level": "info", "text": "[b]hi[/b]"})),
        (2, ev(1, "network_request", "network", {"url": secret, "method": "GET"})),
    ]))
    app = events_app(path)
    seen = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_events(pilot)
        log = screen.query_one(EventLog)
        await pilot.press("y")  # following: the newest event
        copied = json.loads(seen.copied[-1])
        assert copied["type"] == "network_request" and copied["data"]["url"] == secret
        assert "hunter2" not in seen.note and seen.note.startswith("copied event JSON {")
        log.focus()
        await pilot.press("up", "up", "y")  # the cursor on the first event
        assert json.loads(seen.copied[-1])["data"]["text"] == "[b]hi[/b]"


async def test_logs_and_spans_copy_the_line_and_the_span_id(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_fixed_tree(tmp_path / "telemetry")
    app = gridlogs_app()
    seen = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, "7")
        records = screen.query_one(RecordList)
        await pilot.press("y")  # following: the newest record
        newest = records.rows[-1]
        line = json.loads(seen.copied[-1])
        assert (line["msg"], line["level"], line["time"]) == (newest.msg, newest.level,
                                                              newest.ts)
        assert seen.note.startswith("copied log line {")
        screen = await open_screen(pilot, "8")
        records = screen.query_one(RecordList)
        records.focus()
        await pilot.press("up", "y")
        span = records.selected
        assert span is not None and seen.copied[-1] == span.span_id
        assert seen.note == f"copied span id {span.span_id}"
