"""The team store (``--store postgresql://...``) kept in step while the dashboard runs.

Each pass collects this machine's agent logs into its cache of the team store, pushes
what is new, and pulls what every machine pushed into the local replica the usage
reader shows (``tokentop.store.usage.team``); the reader then sees ``data_version``
move. Network I/O stays in this thread worker. A server that is down, a refused login
or a missing database is one line in the usage status (``problem``), and the next pass
tries again; what was collected waits in the cache meanwhile.
"""

from __future__ import annotations

import threading
import time

from tokentop.tui.sources.base import ThreadSource

SYNC_SECONDS = 10.0  # between passes: each is a round trip or two to the server


class TeamFeed(ThreadSource):
    name = "team"
    what = "syncing the team store"
    problem: str | None = None  # why the last pass failed (None: it did not)
    synced_at: float | None = None  # when a pass last succeeded (time.time())

    def run(self, stop: threading.Event) -> None:
        from tokentop.store.usage.collect import collect_once
        from tokentop.store.usage.db import UsageStoreError
        from tokentop.store.usage.team import sync

        url = self.host.usage_team
        assert url is not None
        usage = self.host.sources.usage
        while not stop.is_set():
            try:
                sync.ingest(url, collect_once)
                sync.refresh(url)
                self.problem, self.synced_at = None, time.time()
            except (sync.TeamStoreError, UsageStoreError, OSError) as exc:
                self.problem = " ".join(str(exc).split())
            if usage is not None:
                usage.wake()  # a pull that changed the replica is read now
            self.changed()  # the Usage screen redraws its status line
            stop.wait(SYNC_SECONDS)
