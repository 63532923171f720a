"""The Events screen after a restarted kernel server (issue 15): the log's marker row
and the header and status lines say it restarted and how many of its events were lost.

The server is the loopback one of tests/events/sse_server.py, which resolves
``Last-Event-ID`` as kernel-images' ``resolveStartSeq`` does and answers
``GET /telemetry`` with its newest seq (see tests/events/test_restart.py).
"""

from __future__ import annotations

from conftest import MISSING_ROOT, fixed_clock
from sse_server import SseServer
from test_events_screen import caught_up, lines, screen_of, wait_for
from textual.widgets import Label

from tokentop.store.metrics import MetricsSource
from tokentop.tui.app import TokentopApp


async def test_the_screen_marks_a_restart_and_its_loss() -> None:
    with SseServer(keepalive=0.05) as server:
        server.publish(10)
        source = MetricsSource(MISSING_ROOT, clock=fixed_clock)
        app = TokentopApp(source, clock=fixed_clock, follow=False, events=server.url,
                          events_replay=True)
        async with app.run_test(size=(160, 40)) as pilot:
            feed = app.sources.events
            assert feed is not None
            stats = feed.reads.stats
            await wait_for(pilot, lambda: stats.received == 10, "the first run")
            feed.reads.min_backoff = feed.reads.max_backoff = 0.01  # type: ignore[union-attr]
            server.restart(range(4, 7))  # the new run's ring kept 4..6 of 1..6
            await wait_for(pilot, lambda: stats.received == 13, "the new run")
            await pilot.press("3")
            await wait_for(pilot, lambda: caught_up(app), "the Events screen")
            await pilot.pause()
            screen = screen_of(app)
            got = lines(screen)
            counters = str(screen.query_one("#events-counters", Label).render())
            status = str(screen.query_one("#events-status", Label).render())
    marker = [line for line in got if "──" in line]
    assert marker == ["             ── server restarted: 3 events of the new run lost "
                      "(seq 1-3) ──"]
    assert "restarts 1 (3 lost)" in counters
    assert "server restarted: 3 events of the new run lost (seq 1-3)" in status
