"""The gridctl metrics files: replay the history, then follow new lines.

The store's ``replay`` and ``follow`` block, so they run in a thread worker; they
write only to the ring (which takes its own lock). The UI never waits on them: a
0.25 s timer compares a cheap fingerprint of the store (``ring.version``, counters,
progress, the current minute) and, when it changed, tells the screens to redraw with
``SourceChanged``. However fast lines arrive, screens redraw at most four times a
second. ``changed()`` (the replay is over, or reading failed) redraws at once.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from tokentop.tui.screens import SourceChanged
from tokentop.tui.sources.base import ThreadSource

if TYPE_CHECKING:
    from tokentop.tui.app import TokentopApp

POLL_SECONDS = 0.25  # the default; the config file's ``refresh`` (app.refresh_seconds)


class MetricsFeed(ThreadSource):
    name = "metrics"

    def __init__(self, host: TokentopApp) -> None:
        super().__init__(host)
        self._seen: tuple[object, ...] | None = None

    def start(self) -> None:
        if self.worker is None:
            self.host.set_interval(self.host.refresh_seconds, self.poll)
        super().start()

    def run(self, stop: threading.Event) -> None:
        source = self.host.source
        try:
            source.replay(stop)
        except Exception as exc:  # the replay is over either way: show what there is
            self.error = f"reading history failed: {exc}"
        self.changed()
        if not self.host.follow:
            return
        self.what = "following files"
        source.follow(stop, poll=self.host.poll)

    def _fingerprint(self) -> tuple[object, ...]:
        source = self.host.source
        stats = source.state.stats
        progress = source.progress
        return (
            source.ring.version, stats.lines, stats.malformed, stats.files,
            progress.done_bytes, progress.replaying, progress.replayed,
            source.error, self.error, source.root_exists(), self.host.now_minute(),
        )

    def poll(self, force: bool = False) -> None:
        """Tell the screens to redraw if the store moved since the last look."""
        if self.host.paused and not force:
            return
        seen = self._fingerprint()
        if force or seen != self._seen:
            self._seen = seen
            for screen in self.host.screen_stack:
                screen.post_message(SourceChanged())

    def deliver(self) -> None:
        self.poll(force=not self.host.paused)
