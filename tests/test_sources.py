"""The one way a source runs in the dashboard (tui/sources): real app runs, no mocks.

A crash in a source's ``run`` becomes its one-line ``error`` and the dashboard stays
up; stopping the app stops every started source (its worker returns); a lazy source
is not built until a screen asks; new data reaches the app batched, one message per
batch, and the last batch is never lost.
"""

from __future__ import annotations

import threading
from pathlib import Path

from conftest import Tree, make_app, settle
from textual.pilot import Pilot

from tokentop.tui.app import TokentopApp
from tokentop.tui.sources import SourceSpec
from tokentop.tui.sources.base import ThreadSource


async def wait_for(pilot: Pilot[int], condition: object, what: str) -> None:
    for _ in range(1000):
        if condition():  # type: ignore[operator]
            return
        await pilot.pause(0.01)
    raise AssertionError(f"timed out waiting for {what}")


class Broken(ThreadSource):
    name = "broken"
    what = "reading the broken thing"

    def run(self, stop: threading.Event) -> None:
        raise OSError("disk on fire\nsecond line of a driver's message")


class Looping(ThreadSource):
    """Follows until stopped, then says so."""

    name = "looping"

    def __init__(self, host: TokentopApp) -> None:
        super().__init__(host)
        self.ended = threading.Event()

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.wait(0.05):
                pass
        finally:
            self.ended.set()


class Chatty(ThreadSource):
    """Announces new data far faster than any screen could redraw."""

    name = "chatty"
    LINES = 20_000

    def __init__(self, host: TokentopApp) -> None:
        super().__init__(host)
        self.lines = 0
        self.done = threading.Event()
        self.deliveries: list[int] = []  # ``lines`` as each batch was delivered

    def run(self, stop: threading.Event) -> None:
        for _ in range(self.LINES):
            with self._lock:
                self.lines += 1
            self.changed()
        self.done.set()

    def deliver(self) -> None:
        with self._lock:
            self.deliveries.append(self.lines)


def register(app: TokentopApp, cls: type[ThreadSource]) -> None:
    """One registration: the same registry the built-in sources are in."""
    app.sources.specs[cls.name] = SourceSpec(cls.name, cls, lambda _app: True, eager=False)


async def test_a_crashing_source_shows_one_line_and_the_dashboard_stays_up(
        tree: Tree) -> None:
    app = make_app(tree.root)
    register(app, Broken)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        source = app.sources.use("broken")
        assert source is not None
        await wait_for(pilot, lambda: source.error is not None, "the error")
        assert source.error == ("reading the broken thing stopped: disk on fire "
                                "second line of a driver's message")
        assert source.status == source.error
        await pilot.press("2")  # still answering keys
        await pilot.pause()
        assert app.current_mode == "usage"
        assert app.is_running


async def test_stopping_the_app_stops_every_started_source(tree: Tree) -> None:
    app = make_app(tree.root, follow=True)
    register(app, Looping)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        looping = app.sources.use("looping")
        assert isinstance(looping, Looping)
        await wait_for(pilot, lambda: looping.worker is not None
                       and looping.worker.is_running, "the worker")
        await pilot.press("q")
    assert looping.ended.wait(5), "the looping source's worker did not return"
    for name, source in app.sources.built.items():
        assert source.stop_event.is_set(), name


async def test_a_lazy_source_starts_when_its_screen_first_asks(tree: Tree,
                                                              tmp_path: Path) -> None:
    access = tmp_path / "access.jsonl"
    access.write_text("")
    app = make_app(tree.root)
    app.access_path = str(access)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert set(app.sources.built) == {"metrics"}  # no usage store, no events
        assert app.sources.metrics.started
        await pilot.press("5")  # the Access screen
        await wait_for(pilot, lambda: "access" in app.sources.built, "the access source")
        assert app.sources.built["access"].started
        assert "logs" not in app.sources.built and "files" not in app.sources.built
        await pilot.press("7")  # the Logs screen
        await wait_for(pilot, lambda: "logs" in app.sources.built, "the logs source")


async def test_new_data_arrives_in_batches_and_the_last_batch_is_delivered(
        tree: Tree) -> None:
    app = make_app(tree.root)
    register(app, Chatty)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        chatty = app.sources.use("chatty")
        assert isinstance(chatty, Chatty)
        await wait_for(pilot, chatty.done.is_set, "the burst")
        await wait_for(pilot, lambda: chatty.deliveries
                       and chatty.deliveries[-1] == Chatty.LINES, "the last batch")
        # One message per batch, not one per line: 20,000 lines, a handful of redraws.
        assert 1 <= len(chatty.deliveries) < Chatty.LINES // 20
        assert chatty.deliveries == sorted(chatty.deliveries)
