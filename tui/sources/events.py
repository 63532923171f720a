"""The browser event stream (``--events``): an SSE URL, a JSONL file, or stdin.

It starts with the app, not with the Events screen: the ring must not miss what
arrives before the screen is first shown (what the ring evicted by then shows as
"not shown: viewer fell behind"). The screen reads the ring through ``reader`` on
its own timer, so the stream itself never sends a message per event.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from tokentop.store.events.model import DEFAULT_CAPACITY
from tokentop.tui.sources.base import ThreadSource

if TYPE_CHECKING:
    from tokentop.store.events.filesource import FileSource
    from tokentop.store.events.sse import SseSource
    from tokentop.store.events.stream import EventStream, Reader
    from tokentop.tui.app import TokentopApp


class EventsFeed(ThreadSource):
    name = "events"
    what = "event source"

    stream: EventStream
    reader: Reader  # the Events screen's read position in the ring
    reads: FileSource | SseSource  # its stats: counters, connection state

    def __init__(self, host: TokentopApp, target: str, *, replay: bool = False,
                 capacity: int = DEFAULT_CAPACITY, follow: bool = True) -> None:
        """An ``http(s)`` URL is an SSE stream; anything else a JSONL file (``-``: stdin)."""
        from tokentop.store.events.stream import EventStream

        super().__init__(host)
        self.target = target
        self.stream = EventStream(capacity)
        self.reader = self.stream.new_reader()
        if self.is_url:
            from tokentop.store.events.sse import SseSource

            self.reads = SseSource(target, self.stream, replay=replay)
        else:
            from tokentop.store.events.filesource import FileSource

            self.reads = FileSource(target, self.stream, follow=follow, poll=host.poll)

    @property
    def is_url(self) -> bool:
        return self.target.startswith(("http://", "https://"))

    @property
    def shown_name(self) -> str:
        """The source as shown on screen: a URL without credentials or query."""
        if self.is_url:
            from tokentop.store.events.sse import redact_url

            return redact_url(self.target)
        return "<stdin>" if self.target == "-" else self.target

    def run(self, stop: threading.Event) -> None:
        """Read into the ring until the app stops (or a file ends)."""
        from tokentop.store.events.filesource import FileSource

        if isinstance(self.reads, FileSource):
            self.reads.run(stop)
        else:
            self.reads.run_in_thread(stop)
