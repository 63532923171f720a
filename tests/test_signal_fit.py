"""Issue 17 on the Logs (7) and Spans (8) screens: names fit the free columns, the
search box is one visible row, ``a`` keeps the selected span."""

from __future__ import annotations

from pathlib import Path

import pytest
from gridctl.gridlog_lines import T0, append, envelope, local_ts, slog, tool_span, write_fixed_tree
from test_logs_screen import gridlogs_app, open_screen, wait_for
from textual.widgets import Input

from tokentop.tui.screens.logs import SignalScreen
from tokentop.tui.widgets.log_view import RecordList

NS = 1_000_000_000


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_fixed_tree(tmp_path / "telemetry")
    return tmp_path / "telemetry"


def list_lines(screen: SignalScreen) -> list[str]:
    log = screen.query_one(RecordList)
    return [line.text for line in log.render_lines(log.region.reset_offset)]


@pytest.mark.parametrize("key", ["7", "8"])
async def test_search_box_is_one_row_and_shows_the_typed_text(root: Path, key: str) -> None:
    app = gridlogs_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, key)
        await pilot.press("slash", *"slack")
        await pilot.pause()
        box = screen.query_one(Input)
        assert box.region.height == 1
        line = box.render_line(0).text
        assert "slack" in line


async def test_long_server_names_use_the_free_columns(root: Path) -> None:
    """A server name is cut only where the row is really short, and then with ``…``."""
    server = root / "staging" / "filesystem"
    server.mkdir(parents=True)
    append(server / "logs.jsonl", slog(local_ts(T0, 120), "ERROR", "tool call failed",
                                       tool="read_file", duration=7_000_000,
                                       error="permission denied: /etc/shadow") + "\n")
    append(server / "traces.jsonl", envelope(
        [tool_span("ab" * 16, "cd" * 8, "get_pull_request_diff", T0, NS,
                   server="filesystem")]) + "\n")
    app = gridlogs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, "7")
        text = "\n".join(list_lines(screen))
        assert "staging/filesystem " in text
        assert "error=permission denied: /etc/shadow" in text  # the error before the rest
        screen = await open_screen(pilot, "8")
        text = "\n".join(list_lines(screen))
        assert "get_pull_request_diff " in text and "staging/filesystem " in text
    async with gridlogs_app().run_test(size=(60, 20)) as pilot:
        screen = await open_screen(pilot, "7")
        lines = [ln for ln in list_lines(screen) if "staging/" in ln]
        assert lines and all("staging/filesyst " not in ln for ln in lines)
        assert any("staging/filesystem" in ln or "…" in ln for ln in lines)


async def test_all_spans_keeps_the_selected_span(root: Path) -> None:
    app = gridlogs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, "8")
        await pilot.press("up", "up", "up")
        log = screen.query_one(RecordList)
        chosen = log.selected
        assert chosen is not None
        line = log.cursor - log.scroll_offset.y
        await pilot.press("a")  # every span: the same span, at the same height
        await pilot.pause()
        assert log.selected is chosen
        assert log.cursor - log.scroll_offset.y == line
        await pilot.press("up")  # a span that is not a tool call
        assert not log.selected.is_call
        before = log.selected.start_ns
        await pilot.press("a")  # tool calls again: the call at or before it
        await pilot.pause()
        assert log.selected is not None and log.selected.start_ns <= before
        top, height = log.scroll_offset.y, log.scrollable_content_region.height
        assert top <= log.cursor < top + height


async def test_a_filter_while_paused_keeps_to_what_was_there(root: Path) -> None:
    """As on the Events screen: paused, a new search picks from the records there were
    at the pause; ``end`` follows again, so it unpauses."""
    app = gridlogs_app(follow=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, "7")
        log = screen.query_one(RecordList)
        await pilot.press("space", "up")
        slack = root / "prod" / "slack" / "logs.jsonl"
        append(slack, slog(local_ts(T0 + 60 * NS, 120), "INFO", "late arrival",
                           tool="search_code") + "\n")
        await wait_for(pilot, lambda: screen.new_while_paused == 1, "the new record")
        await pilot.press("slash", *"late", "enter")
        await pilot.pause()
        assert log.records == []
        await pilot.press("escape", "end")
        await pilot.pause()
        assert not app.paused
        await pilot.press("slash", *"late", "enter")
        await pilot.pause()
        assert len(log.records) == 1
