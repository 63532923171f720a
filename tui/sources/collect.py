"""The collectors: agent logs into tokentop's own usage store while the dashboard runs.

``collect.watch`` waits on filesystem events (watchfiles) and writes what agents
appended; each pass wakes the usage reader, which then sees ``data_version`` move.
A failure shows where the store's own errors show: in the usage status line.
"""

from __future__ import annotations

import threading

from tokentop.tui.sources.base import ThreadSource


class CollectFeed(ThreadSource):
    name = "collect"
    what = "collecting agent logs"
    # Why passes are not landing (disk full, store locked), None while they do: the
    # usage status line says "not storing: ..." instead of "collecting agent logs".
    not_storing: str | None = None
    # Why the log directories are polled (the kernel refused a file watcher), or None.
    polling: str | None = None

    def run(self, stop: threading.Event) -> None:
        from tokentop.store.usage.collect import watch
        from tokentop.store.usage.db import UsageStore

        path = self.host.usage_path
        assert path is not None
        usage = self.host.sources.usage
        assert usage is not None  # collecting is only wanted with a usage store

        def on_error(message: str | None) -> None:
            # The status line shows the store's path just before it, and is cut at a
            # separator when too long: the reason alone ("disk full", not the path and
            # why nothing is lost) keeps "not storing: disk full" on screen at 80 columns.
            if message is not None:
                message = message.replace(f": {path}", "").removeprefix(f"{path}: ")
                message = message.split(" (", 1)[0]
            if message != self.not_storing:
                self.not_storing = message
                usage.restate_status()  # the status line is redrawn with a read

        def on_note(message: str) -> None:
            self.polling = message
            usage.restate_status()

        watch(lambda: UsageStore.open(path), stop, lambda _report: usage.wake(),
              on_error=on_error, on_note=on_note)

    def fail(self, message: str) -> None:
        super().fail(message)
        if self.host.sources.usage is not None:
            self.host.sources.usage.report(message)
