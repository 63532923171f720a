"""Log rows of the Events screen: made cheaply on arrival, summarised when drawn.

The screen keeps up with tens of thousands of events a second by not summarising rows
that are never shown; these tests pin what must still happen on arrival (request and
response pairing, in arrival order), that a summary built late says the same thing,
and that the fast line renderer draws exactly what Rich would.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from rich.console import Console
from rich.style import Style
from rich.text import Text

from tokentop.store.events.model import Envelope, Event
from tokentop.store.events.stream import EventStream
from tokentop.tui.widgets.event_text import EventSummarizer, LogRow, render_row, text_segments


def env(seq: int, type_: str, data: Any, ts: int = 1_000_000) -> Envelope:
    raw = msgspec.Raw(json.dumps(data).encode())
    return Envelope(Event(ts=ts, type=type_, category=type_.split("_")[0], data=raw), seq=seq)


def test_rows_are_summarised_only_when_asked() -> None:
    row = EventSummarizer().event_row(env(1, "console_log", {"level": "info", "text": "hi"}))
    assert row.text is None and row.search_text is None and row.stamp is None
    assert row.summary.plain == "info  hi"
    assert row.text is not None  # built once, kept
    assert row.search == "console console_log info  hi"


def test_pairing_happens_on_arrival_even_for_rows_never_drawn() -> None:
    s = EventSummarizer()
    request = s.event_row(env(1, "network_request",
                              {"request_id": "a", "method": "PUT", "url": "https://x/y"},
                              ts=1_000_000))
    s.event_row(env(2, "network_request", {"request_id": "b", "url": "https://other/"}))
    response = s.event_row(env(3, "network_response", {"request_id": "a", "status": 201},
                               ts=1_250_000))
    assert request.text is None  # the request was never summarised
    assert response.summary.plain == "← 201 PUT https://x/y 250 ms"
    # The pair is used up: a second response with the same id has nothing to pair with.
    again = s.event_row(env(4, "network_response", {"request_id": "a", "status": 200}))
    assert again.pair is None


def test_odd_network_payloads_do_not_pair_or_break() -> None:
    s = EventSummarizer()
    for data in ("text", [1, 2], {"request_id": True, "url": "u"}, {"request_id": 1.5}):
        row = s.event_row(env(1, "network_request", data))
        assert row.pair is None
        assert row.summary.plain  # some line, never an exception
    bad = Envelope(Event(type="network_response", data=msgspec.Raw(b"{nope")), seq=9)
    assert s.event_row(bad).summary.plain == "(unreadable data)"


@pytest.mark.parametrize("width", [40, 80, 160])
def test_fast_segments_draw_what_rich_draws(width: int) -> None:
    console = Console(width=500, color_system="truecolor")
    s = EventSummarizer()
    rows = [
        s.event_row(env(1, "console_error", {"level": "error", "text": "[b]x[/b] \x1b[31m"})),
        s.event_row(env(2, "network_request", {"request_id": 1, "url": "https://例え.jp/パス"})),
        s.event_row(env(3, "network_response", {"request_id": 1, "status": 500})),
        s.event_row(env(4, "mystery_thing", {"k": "v" * 300})),
    ]
    for row in rows:
        text = render_row(row, width)
        expected = [(seg.text, seg.style) for seg in text.render(console) if seg.text != "\n"]
        got = [(seg.text, seg.style) for seg in text_segments(text)]
        assert "".join(t for t, _ in got) == "".join(t for t, _ in expected)
        # Same style on every character (segments may be split differently).
        def per_char(segs: list[tuple[str, Any]]) -> list[Any]:
            return [style or Style() for t, style in segs for _ in t]
        assert per_char(got) == per_char(expected)


def test_overlapping_spans_take_the_general_path() -> None:
    text = Text("abcdef")
    text.stylize("bold", 0, 4)
    text.stylize("italic", 2, 6)
    segs = text_segments(text)
    assert "".join(seg.text for seg in segs) == "abcdef"
    styles = {seg.text: seg.style for seg in segs}
    assert styles["cd"] is not None and styles["cd"].bold and styles["cd"].italic


def test_ring_and_rows_are_not_tracked_by_the_cyclic_collector() -> None:
    """Thousands of these live at once; tracking them made full collections stall the
    event loop for 100-250 ms at 20,000 events a second."""
    stream = EventStream(8)
    stored = stream.publish(env(0, "console_log", {"text": "x"}))
    row = EventSummarizer().event_row(stored)
    assert not gc.is_tracked(stored)
    assert not gc.is_tracked(stored.event)
    assert not gc.is_tracked(row)
    assert isinstance(row, LogRow)


async def test_the_app_freezes_its_start_up_heap_and_thaws_it_on_exit(tmp_path: Path) -> None:
    from tokentop.store.metrics import MetricsSource
    from tokentop.tui.app import GC_YOUNG, TokentopApp

    before = gc.get_threshold()
    app = TokentopApp(MetricsSource(tmp_path), follow=False)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(200):  # the freeze runs after the first refresh
            if gc.get_freeze_count():
                break
            await pilot.pause(0.01)
        assert gc.get_freeze_count() > 1000
        assert gc.get_threshold()[0] >= GC_YOUNG
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


async def test_many_long_lived_thread_workers_do_not_starve_a_new_one(tmp_path: Path) -> None:
    """Every source and screen keeps a thread worker while it follows something; with
    the loop's default executor (6 threads on 2 cores) the Spans screen, opened after
    five others, never started reading."""
    import threading

    from tokentop.store.metrics import MetricsSource
    from tokentop.tui.app import TokentopApp

    release = threading.Event()
    app = TokentopApp(MetricsSource(tmp_path), follow=False)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(12):
            app.run_worker(lambda: release.wait(30), thread=True, group="hold")
        quick = app.run_worker(lambda: 42, thread=True, group="quick")
        for _ in range(300):
            if quick.is_finished:
                break
            await pilot.pause(0.01)
        release.set()
        assert quick.is_finished and quick.result == 42
