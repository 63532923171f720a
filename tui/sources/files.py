"""The inventory of the telemetry root (the Files screen): every file, rescanned.

Started the first time the Files screen is built. It scans right away, then when
woken (a wipe, the screen shown again) or every second while live and shown; an
unchanged scan is not sent again. The first scan of a large tree hands over its first
rows early and lets the UI draw them before listing on (no GIL contention while the
table paints).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from textual.message import Message

from tokentop.tui import format as fmt
from tokentop.tui.sources.base import ThreadSource

if TYPE_CHECKING:
    from tokentop.store.gridctl.inventory import InventoryRecord
    from tokentop.tui.app import TokentopApp

SCAN_SECONDS = 1.0
FIRST_ROWS = 40  # a first scan shows this many rows (a tall terminal's worth) at once
FIRST_PAINT_WAIT = 0.5  # then lists the rest once they are drawn (or after this long)


class InventoryScanned(Message):
    """One scan of the telemetry root: the whole inventory, or why it failed.

    The first scan of a large tree also posts its first ``FIRST_ROWS`` records early
    (``complete=False``), so the table has its visible rows before the listing ends.
    """

    def __init__(self, records: list[InventoryRecord] | None, error: str | None,
                 root_exists: bool, *, complete: bool = True, request: int = 0) -> None:
        super().__init__()
        self.records = records
        self.error = error
        self.root_exists = root_exists
        self.complete = complete  # False: the first rows of a first scan, more to come
        self.request = request  # the last ``rescan()`` this scan started after


class FilesFeed(ThreadSource):
    name = "files"
    what = "scanning files"

    def __init__(self, host: TokentopApp) -> None:
        super().__init__(host)
        self.visible = True  # the Files screen is shown (scan every second only then)
        self.first_drawn = threading.Event()  # the first rows are on the screen
        self.scan: InventoryScanned | None = None  # the latest, not yet delivered
        self.requests = 0  # rescans asked for: a scan says which it answers
        self.wake()  # the first scan: right away

    def rescan(self) -> int:
        """Scan again now; the number that the answering scan's ``request`` reaches
        (a scan already under way, started before this call, answers an older one)."""
        with self._lock:
            self.requests += 1
            asked = self.requests
        self.wake()
        return asked

    def run(self, stop: threading.Event) -> None:
        from tokentop.store.gridctl.inventory import Rescanner

        live = self.host.follow
        last: tuple[object, ...] | None = None
        scanner = Rescanner()
        while True:
            woken = self.wake_event.wait(SCAN_SECONDS)
            self.wake_event.clear()
            with self._lock:
                request = self.requests  # what this scan answers: it starts after them
            if stop.is_set():
                return
            if not woken and not (live and self.visible):
                continue
            layout = self.host.source.layout
            partial = last is None  # nothing shown yet: show the first rows early
            try:
                records: list[InventoryRecord] | None = []
                assert records is not None
                for record in scanner.scan(layout):
                    records.append(record)
                    if partial and len(records) == FIRST_ROWS:
                        self._publish(InventoryScanned(list(records), None, True,
                                                       complete=False, request=request))
                        self.first_drawn.wait(FIRST_PAINT_WAIT)
                error = None
            except Exception as exc:  # keep scanning and say what broke
                records, error = None, f"scanning {fmt.clean(layout.path)} failed: {exc}"
            exists = layout.path.is_dir()
            seen = (records, error, exists)
            if seen == last and not woken:
                continue
            last = seen
            self._publish(InventoryScanned(records, error, exists, request=request))

    def _publish(self, message: InventoryScanned) -> None:
        with self._lock:
            self.scan = message
        self.changed()

    def deliver(self) -> None:
        with self._lock:
            scan, self.scan = self.scan, None
        if scan is None and self.error is not None:  # the scanner itself crashed
            scan = InventoryScanned(None, self.error, True)
        if scan is not None:
            for pump in self.subscribers:
                pump.post_message(scan)
