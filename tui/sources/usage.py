"""The usage store, read through a read-only connection in a thread worker.

The loop polls ``PRAGMA data_version`` about twice a second and re-queries on a
change, a new window or a new minute. The Overview's series (while its source switch
shows the usage store) is read on the same change key plus its range. While paused the
data version is held where it was, so the display stays frozen but a new window or
range is still answered.

What it read is kept (``loaded``, ``series``) for screens shown later, and the screens
on the stack get it as ``UsageLoaded`` / ``UsageSeriesLoaded``: the latest of each per
batch, never a message per change.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tokentop.tui.screens import UsageLoaded, UsageSeriesLoaded
from tokentop.tui.sources.base import ThreadSource

if TYPE_CHECKING:
    from tokentop.tui.app import TokentopApp

POLL_SECONDS = 0.5  # PRAGMA data_version, about twice a second
BUSY_MS = 1000  # a locked store says so within a second, not after five


class UsageFeed(ThreadSource):
    name = "usage"

    def __init__(self, host: TokentopApp) -> None:
        super().__init__(host)
        self.window = "1d"
        self.loaded: UsageLoaded | None = None  # the last read (or why it failed)
        self.series_range: str | None = None  # the Overview's range (None: not shown)
        self.series_ending: int | None = None  # its last minute, scrolled back (None: now)
        self.series: UsageSeriesLoaded | None = None  # the last series read
        self._new_loaded = False
        self._new_series = False
        self.restate = False  # read and publish once more though the store is unchanged

    # -- what screens ask ----------------------------------------------------------
    def request(self, window: str | None = None) -> None:
        """Re-read now (the Usage screen changed its window, or was shown again)."""
        if window is not None:
            self.window = window
        self.wake()

    def request_series(self, range_name: str | None, ending: int | None = None) -> None:
        """Read the series over ``range_name`` too (None: stop reading it), ending now or,
        scrolled back (``<``), at minute ``ending``: read here, in the worker."""
        if (range_name, ending) != (self.series_range, self.series_ending):
            self.series_range, self.series_ending = range_name, ending
            self.wake()

    # -- the worker ----------------------------------------------------------------
    def _now(self) -> datetime:
        host = self.host
        return datetime.fromtimestamp(
            host.now_minute() * 60 if host.paused else host.clock(), UTC)

    def run(self, stop: threading.Event) -> None:
        from tokentop.store.usage.db import UsageStore, UsageStoreError
        from tokentop.store.usage.read import read_usage

        path = self.host.usage_path
        assert path is not None
        store = None
        seen: tuple[object, ...] | None = None
        seen_series: tuple[object, ...] | None = None
        version: int | None = None
        try:
            while not stop.is_set():
                self.wake_event.clear()
                try:
                    if store is None:
                        if not path.exists() and self.host.usage_collect:
                            UsageStore.open(path).close()  # create it
                        store = UsageStore.open(path, read_only=True, busy_timeout_ms=BUSY_MS)
                    if not self.host.paused or version is None:
                        version = store.data_version()
                    now = self._now()
                    # a read the store did not ask for: the collector's state changed
                    # (disk full, polling), and the status line shows it with a read
                    retry = self.error is not None or self.restate
                    self.restate = False
                    key = (version, self.window, int(now.timestamp()) // 60)
                    view = None
                    if key != seen or retry:
                        view = read_usage(store.conn, self.window, now)
                    wanted, ending = self.series_range, self.series_ending
                    series_key: tuple[object, ...] | None = None
                    loaded = None
                    if wanted is not None:
                        span = self._series_span(wanted, now, ending)
                        series_key = (version, wanted, span)
                        if series_key != seen_series or retry:
                            loaded = self._read_series(store.conn, wanted, span, ending)
                    # Both reads succeeded: only now is an earlier error over.
                    self.error = None
                    if view is not None:
                        seen = key
                        self._publish(UsageLoaded(view, None))
                    if loaded is not None:
                        seen_series = series_key
                        self._publish_series(loaded)
                except UsageStoreError as exc:
                    self.report(str(exc))
                except sqlite3.Error as exc:
                    from tokentop.store.sqlite_errors import describe

                    self.report(describe(exc, path))
                    if store is not None:
                        store.close()
                        store = None
                except Exception as exc:  # e.g. a foreign row with an unreadable time
                    self.report(f"reading {path} failed: {exc}")
                self.wake_event.wait(POLL_SECONDS)
        finally:
            if store is not None:
                store.close()

    def _series_span(self, range_name: str, now: datetime,
                     ending: int | None = None) -> tuple[int, int, int]:
        """(first minute, last minute, interval): the very window the ring's charts use,
        so both sources share one x axis (``all`` is every minute the ring retains);
        ending at ``ending`` when scrolled back."""
        from tokentop.store.metrics import window

        end = int(now.timestamp()) // 60 if ending is None else ending
        win = window(self.host.source.ring, range_name, end)
        return win.start, win.end, win.interval

    @staticmethod
    def _read_series(conn: sqlite3.Connection, range_name: str,
                     span: tuple[int, int, int], ending: int | None = None
                     ) -> UsageSeriesLoaded:
        from tokentop.store.usage.read import series

        first, last, interval = span
        minutes, tokens, cost = series(conn, datetime.fromtimestamp(first * 60, UTC),
                                       datetime.fromtimestamp((last + 1) * 60, UTC), interval)
        return UsageSeriesLoaded(range_name, interval, minutes, tokens, cost, ending)

    def restate_status(self) -> None:
        """Read and publish again though the store did not change: what the status line
        shows beside the read (the collector's "not storing: disk full") did. A failed
        write moves no ``data_version``, so without this the line kept "collecting"
        until the next minute."""
        self.restate = True
        self.wake()

    def report(self, message: str) -> None:
        """A failure to read (or to collect): said once, until it changes."""
        if message != self.error:
            self.error = message
            self._publish(UsageLoaded(None, message))

    def _publish(self, message: UsageLoaded) -> None:
        with self._lock:
            self.loaded, self._new_loaded = message, True
        self.changed()

    def _publish_series(self, message: UsageSeriesLoaded) -> None:
        with self._lock:
            self.series, self._new_series = message, True
        self.changed()

    def deliver(self) -> None:
        """The latest read and series, to the screens shown now."""
        with self._lock:
            loaded = self.loaded if self._new_loaded else None
            series = self.series if self._new_series else None
            self._new_loaded = self._new_series = False
        for screen in self.host.screen_stack:
            if loaded is not None:
                screen.post_message(UsageLoaded(loaded.view, loaded.error))
            if series is not None:
                screen.post_message(series.copy())
