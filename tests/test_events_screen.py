"""Pilot tests of the Events screen on real JSONL files and a real ``EventStream``.

Every test writes envelopes to a file in ``tmp_path``, lets the app's ``FileSource``
read it into the ring, and waits on a condition (the source's state or counters, the
screen's reader) before looking: nothing sleeps to synchronise.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from conftest import MISSING_ROOT, NOW_TS, fixed_clock
from textual.pilot import Pilot
from textual.widgets import Input, Label, Static

from tokentop.store.events.model import Envelope, Event
from tokentop.store.metrics import MetricsSource
from tokentop.tui.app import TokentopApp
from tokentop.tui.screens.events import NO_STREAM, EventsScreen
from tokentop.tui.widgets.event_log import EventLog
from tokentop.tui.widgets.event_text import EventSummarizer, detail_text, render_row

T0 = int(NOW_TS * 1_000_000) - 60_000_000  # µs: a minute before the fixed clock


def ev(i: int, type_: str, category: str, data: Any, **extra: Any) -> dict[str, Any]:
    return {"ts": T0 + i * 250_000, "type": type_, "category": category,
            "source": {"kind": "cdp", "event": ""}, "data": data, **extra}


def envelopes(items: list[tuple[int, dict[str, Any]]]) -> str:
    return "".join(json.dumps({"seq": seq, "event": event}) + "\n" for seq, event in items)


def sample_events() -> list[tuple[int, dict[str, Any]]]:
    """Every summary kind once, an upstream gap (1201-1237) and a restart at the end."""
    shot = base64.b64encode(bytes(range(256)) * 3).decode()
    items = [
        ev(0, "console_log", "console", {"level": "info", "text": "app started"}),
        ev(1, "console_error", "console", {"level": "error", "text": "[bold red]x[/] \x1b[31mred"}),
        ev(2, "network_request", "network", {"request_id": "r1", "method": "POST",
                                             "url": "https://shop.example.com/api/cart"}),
        ev(3, "network_response", "network", {"request_id": "r1", "status": 404,
                                              "url": "https://shop.example.com/api/cart"}),
        ev(4, "page_navigation", "page", {"url": "https://shop.example.com/checkout"}),
        # Payloads as kernel-images writes them (tests/events/fixtures/README.md).
        ev(5, "interaction_click", "interaction", {"selector": "button#pay", "x": 10, "y": 20}),
        ev(6, "api_call", "control", {"operation_id": "TakeScreenshot", "status": 200,
                                      "duration_ms": 4.5, "request_id": "vm/1"}),
        ev(7, "system_oom_kill", "system", {"process_name": "chrome", "pid": 9,
                                            "rss_kb": 2_050_782}),
        ev(8, "monitor_screenshot", "screenshot", {"png": shot}),
        ev(9, "hologram_projected", "mystery", {"color": "teal", "size": 3}),
        ev(10, "network_response", "network", {"status": "weird"}),  # missing fields
    ]
    seqs = [1195, 1196, 1197, 1198, 1199, 1200, 1238, 1239, 1240, 1, 2]
    return list(zip(seqs, items, strict=True))


def events_app(path: Path | str, *, capacity: int = 4096, follow: bool = False) -> TokentopApp:
    """The real app with the fixed clock, no metrics, and ``path`` as its event source."""
    source = MetricsSource(MISSING_ROOT, clock=fixed_clock)
    return TokentopApp(source, clock=fixed_clock, follow=False, events=str(path),
                       events_capacity=capacity, events_follow=follow)


async def wait_for(pilot: Pilot[int], condition: Callable[[], bool], what: str) -> None:
    for _ in range(1000):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def screen_of(app: TokentopApp) -> EventsScreen:
    screen = app.screen
    assert isinstance(screen, EventsScreen)
    return screen


def caught_up(app: TokentopApp) -> bool:
    """The Events screen has read everything the source published and shown its count."""
    screen = app.screen
    feed = app.sources.events
    assert feed is not None
    reader, stream, source = feed.reader, feed.stream, feed.reads
    return (isinstance(screen, EventsScreen) and reader.next_seq > stream.seq
            and screen.shown_received == source.stats.received)


async def open_events(pilot: Pilot[int], *, received: int | None = None) -> EventsScreen:
    """Wait until the file was read (all of it, or ``received`` envelopes), show the
    Events screen, and wait until it has read and counted everything."""
    app = cast(TokentopApp, pilot.app)
    assert app.sources.events is not None
    source = app.sources.events.reads
    if received is None:
        await wait_for(pilot, lambda: source.stats.state == "ended", "the file source to end")
    else:
        await wait_for(pilot, lambda: source.stats.received >= received, "the envelopes")
    await pilot.press("3")
    await wait_for(pilot, lambda: caught_up(app), "the Events screen to catch up")
    await pilot.pause()
    return screen_of(app)


def lines(screen: EventsScreen, width: int = 200) -> list[str]:
    return [render_row(row, width).plain.rstrip() for row in screen.query_one(EventLog).shown]


def label_text(screen: EventsScreen, selector: str) -> str:
    return str(screen.query_one(selector, Label).render())


# -- the log ---------------------------------------------------------------------------------


async def test_summaries_and_markers(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(envelopes(sample_events()))
    app = events_app(path)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_events(pilot)
        got = lines(screen)
        text = "\n".join(got)
        assert len(got) == 13  # 11 events and two markers
        assert got[0].startswith("12:29:00.000   1195 console")
        assert "info  app started" in got[0]
        assert "← 404 POST https://shop.example.com/api/cart 250 ms" in got[3]  # paired
        assert "https://shop.example.com/checkout" in got[4]
        assert "click button#pay @10,20" in got[5]
        assert "── 37 events dropped upstream (seq 1201-1237) ──" in got[6]
        assert "TakeScreenshot 200 4.5 ms" in got[7]
        assert "OOM killed chrome (pid 9) RSS 2.1 GB" in got[8]
        assert "screenshot png 768 B" in got[9]
        assert "stream restarted (seq back to 1)" in got[10]
        assert "mystery" in got[11] and "hologram_projected" in got[11]
        assert "color=teal size=3" in got[11]  # unknown type: the generic line
        assert "status=weird" in got[12]  # known type missing its fields: generic too
        assert "\x1b" not in text
        counters = label_text(screen, "#events-counters")
        assert "received 11" in counters
        assert "dropped upstream 37" in counters
        assert "in viewer 0" in counters
        status = label_text(screen, "#events-status")
        assert "ended" in status
        assert app.sources.events is not None and app.sources.events.reads.stats.restarts == 1


async def test_untrusted_text_stays_literal(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(envelopes(sample_events()[:2]))
    app = events_app(path)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_events(pilot)
        log = screen.query_one(EventLog)
        row = log.shown[1]
        assert "[bold red]x[/] \\x1b[31mred" in row.summary.plain
        # The drawn line has the literal characters and no style taken from them.
        strip = log.render_line(1)
        drawn = "".join(seg.text for seg in strip)
        assert "[bold red]x[/] \\x1b[31mred" in drawn
        for seg in strip:
            if "x[/]" in seg.text:
                assert seg.style is None or not (seg.style.bold and seg.style.color
                                                 and seg.style.color.name == "red")


async def test_viewer_fell_behind(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    items = [(i, ev(i, "console_log", "console", {"level": "log", "text": f"line {i}"}))
             for i in range(1, 51)]
    path.write_text(envelopes(items))
    app = events_app(path, capacity=16)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_events(pilot)
        got = lines(screen)
        assert "── 34 events not shown: viewer fell behind ──" in got[0]
        assert got[1].split()[1] == "35" and len(got) == 17
        assert "in viewer 34" in label_text(screen, "#events-counters")


async def test_pause_keeps_counting(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    first = [(i, ev(i, "console_log", "console", {"level": "log", "text": f"a{i}"}))
             for i in range(1, 4)]
    path.write_text(envelopes(first))
    app = events_app(path, follow=True)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_events(pilot, received=3)
        log = screen.query_one(EventLog)
        assert len(log.shown) == 3
        await pilot.press("space")
        assert app.paused
        more = [(i, ev(i, "console_log", "console", {"level": "log", "text": f"b{i}"}))
                for i in range(4, 9)]
        with path.open("a") as f:
            f.write(envelopes(more))
        await wait_for(pilot, lambda: screen.new_while_paused == 5, "5 new while paused")
        await wait_for(pilot, lambda: caught_up(app), "the header")
        await pilot.pause()
        assert len(log.shown) == 3  # the display is still
        assert "paused, 5 new" in label_text(screen, "#events-paused")
        assert "received 8" in label_text(screen, "#events-counters")  # counting goes on
        await pilot.press("space")
        await pilot.pause()
        assert not app.paused
        assert len(log.shown) == 8
        assert lines(screen)[-1].endswith("b8")


async def test_category_toggle_and_filter(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(envelopes(sample_events()))
    app = events_app(path)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_events(pilot)
        await pilot.press("K")  # network off
        got = lines(screen)
        assert not any(" network " in line for line in got)
        assert any("dropped upstream" in line for line in got)  # markers stay
        assert "hidden: network" in label_text(screen, "#events-status")
        await pilot.press("K", "H")  # network back on, "other" (unknown categories) off
        got = lines(screen)
        assert any(" network " in line for line in got)
        assert not any("hologram_projected" in line for line in got)
        await pilot.press("x")
        assert len(lines(screen)) == 13
        await pilot.press("slash")
        await pilot.pause()
        assert isinstance(screen.focused, Input)
        for key in "checkout":
            await pilot.press(key)
        await pilot.pause()
        events_only = [line for line in lines(screen) if "──" not in line]
        assert len(events_only) == 1 and "page_navigation" in events_only[0]
        await pilot.press("enter")  # keeps the filter, back to the log
        assert isinstance(screen.focused, EventLog)
        assert "filter: checkout" in label_text(screen, "#events-status")
        await pilot.press("escape")
        await pilot.pause()
        assert len(lines(screen)) == 13


async def test_detail_pane(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(envelopes(sample_events()))
    app = events_app(path)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_events(pilot)
        pane = screen.query_one("#events-detail")
        assert not pane.display
        log = screen.query_one(EventLog)
        await pilot.click(log, offset=(2, 1), times=2)  # a click moves the cursor only
        await pilot.pause()
        assert log.cursor == log.scroll_offset.y + 1 and log.selected is log.shown[log.cursor]
        assert not log.following and not pane.display
        await pilot.press("end")
        assert log.following
        for _ in range(4):  # up from the tail: the screenshot row
            await pilot.press("up")
        assert screen.query_one(EventLog).selected is not None
        await pilot.press("enter")
        await pilot.pause()
        assert pane.display
        body = str(screen.query_one("#events-detail-body", Static).render())
        assert '"type": "monitor_screenshot"' in body
        assert '"png": "<base64, 768 bytes>"' in body
        await pilot.press("escape")
        await pilot.pause()
        assert not pane.display


async def test_big_payloads(tmp_path: Path) -> None:
    """A 1.2 MB line is truncated by the ring; a 900 kB one is summarised and shown
    in the detail pane without decoding it for the log line, and capped there."""
    path = tmp_path / "events.jsonl"
    huge = base64.b64encode(b"\x00" * 900_000).decode()  # 1.2 MB of base64
    prose = "word " * 180_000  # 900 kB, not base64
    path.write_text(envelopes([
        (1, ev(1, "monitor_screenshot", "screenshot", {"image": huge})),
        (2, ev(2, "console_log", "console", {"level": "log", "text": prose})),
    ]))
    app = events_app(path)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_events(pilot)
        got = lines(screen)
        assert "payload truncated (1.2 MB received, data dropped)" in got[0]
        assert "900.0 kB of data" in got[1]
        assert "truncated 1" in label_text(screen, "#events-counters")
        env = screen.query_one(EventLog).shown[1].envelope
        assert env is not None
        text = detail_text(env).plain
        assert len(text) < 2_000
        assert "… (900,000 chars)" in text


async def test_no_stream_empty_state(tmp_path: Path) -> None:
    source = MetricsSource(MISSING_ROOT, clock=fixed_clock)
    app = TokentopApp(source, clock=fixed_clock, follow=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        screen = screen_of(app)
        empty = screen.query_one("#events-empty", Static)
        assert empty.display
        assert NO_STREAM in str(empty.render())
        assert not screen.query_one(EventLog).display


# -- summaries without the UI ---------------------------------------------------------------


@pytest.mark.parametrize(("type_", "data", "expected"), [
    ("console_log", {"text": "hi\nthere"}, "log   hi ↵ there"),
    ("console_log", {"level": 3}, "level=3"),
    ("network_request", {"method": "GET"}, "method=GET"),
    ("network_loading_failed", {"url": "https://x/", "error_text": "net::ERR"},
     "✗ https://x/ net::ERR"),
    ("api_call", {"operation_id": "ProcessExec", "status": 500, "duration_ms": 12},
     "ProcessExec 500 12 ms"),
    ("system_oom_kill", {"process_name": "Xvfb", "rss_kb": 5}, "OOM killed Xvfb RSS 5.1 kB"),
    ("page_lcp", {"lcp_details": {"size": 510}}, "LCP 510 px²"),
    ("page_layout_shift", {"layout_shift_details": {"value": 0.25, "had_recent_input": True}},
     "shift 0.2500 after input (not in CLS)"),
    ("captcha_solve_result", {"status": "failure", "error_code": "ERROR_CAPTCHA_UNSOLVABLE"},
     "failure ERROR_CAPTCHA_UNSOLVABLE"),
    ("console_error", {"text": "Uncaught Error: boom"}, "error Uncaught Error: boom"),
    ("something_new", None, "(no data)"),
    ("something_new", [1, 2], "[1, 2]"),
])
def test_summary_shapes(type_: str, data: Any, expected: str) -> None:
    raw = json.dumps(data).encode()
    import msgspec

    env = Envelope(Event(ts=1, type=type_, category="x", data=msgspec.Raw(raw)), seq=1)
    assert expected in EventSummarizer().event_row(env).summary.plain


async def test_a_filter_while_paused_keeps_to_what_was_there(tmp_path: Path) -> None:
    """Issue 17: a filter while paused showed rows from after the pause; ``end`` jumped
    to the tail but stayed paused (it follows again: it unpauses)."""
    path = tmp_path / "events.jsonl"
    first = [(i, ev(i, "console_log", "console", {"level": "log", "text": f"a{i}"}))
             for i in range(1, 4)]
    path.write_text(envelopes(first))
    app = events_app(path, follow=True)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_events(pilot, received=3)
        log = screen.query_one(EventLog)
        await pilot.press("space", "up")
        more = [(i, ev(i, "console_log", "console", {"level": "log", "text": f"b{i}"}))
                for i in range(4, 9)]
        with path.open("a") as f:
            f.write(envelopes(more))
        await wait_for(pilot, lambda: screen.new_while_paused == 5, "5 new while paused")
        await pilot.press("slash", "l", "o", "g", "enter")
        await pilot.pause()
        assert len(log.shown) == 3  # still what was there at the pause
        await pilot.press("x")
        assert len(log.shown) == 3
        await pilot.press("end")
        await pilot.pause()
        assert not app.paused and log.following
        assert len(log.shown) == 8


@pytest.mark.parametrize("width", [60, 70, 80])
async def test_counters_are_whole_at_the_edge(tmp_path: Path, width: int) -> None:
    """Issue 17: at 60 columns the counter line was cut at the edge (a number could lose
    its last digits, a ``·`` dangled); now whole items only, then ``…``."""
    path = tmp_path / "events.jsonl"
    path.write_text(envelopes(sample_events()))
    app = events_app(path, capacity=16)
    async with app.run_test(size=(width, 24)) as pilot:
        screen = await open_events(pilot)
        line = label_text(screen, "#events-counters")
        assert len(line) <= width - 2
        assert not line.rstrip().endswith("·")
        full = ["recv ", "lost up 37", "viewer ", "rst 1", "dup ", "trunc "]
        shown = [f for f in full if f in line]
        assert shown == full[:len(shown)]  # whole items, in order
        if len(shown) < len(full):
            assert line.endswith("…")
