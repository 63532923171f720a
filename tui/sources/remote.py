"""Other boxes' agent logs over ssh into the usage store while the dashboard runs (--host).

Why polling and not a watch: nothing runs on the box but a shell tokentop talks to, so
each second it asks which logs changed (a warm poll is a few bytes each way over the
multiplexed connection) and pulls what was appended. Each box has a thread and a store
connection of its own, so one that hangs in a connect timeout delays no other; one that
cannot be reached keeps its last status (``statuses``: the Usage screen shows it) and is
tried again every ``RETRY_S``, while the other boxes and local collection go on.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from tokentop.store.usage.remote import HostStatus, RemoteCollector, RemoteError
from tokentop.tui.sources.base import ThreadSource

if TYPE_CHECKING:
    from tokentop.tui.app import TokentopApp

POLL_S = 1.0
RETRY_S = 10.0


class RemoteFeed(ThreadSource):
    name = "remote"
    what = "collecting remote boxes"

    def __init__(self, host: TokentopApp) -> None:
        super().__init__(host)
        self.statuses: dict[str, HostStatus] = {h: HostStatus(h) for h in host.remote_hosts}

    def run(self, stop: threading.Event) -> None:
        threads = [threading.Thread(target=self._box, args=(h, stop), daemon=True,
                                    name=f"tokentop-ssh-{h}") for h in self.statuses]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _box(self, host: str, stop: threading.Event) -> None:
        from tokentop.store.usage.db import UsageStore, UsageStoreError

        path = self.host.usage_path
        usage = self.host.sources.usage
        assert path is not None and usage is not None
        try:
            col = RemoteCollector(host)
        except RemoteError as exc:
            self.statuses[host].error = str(exc)
            usage.wake()
            return
        self.statuses[host] = col.status
        try:
            store = UsageStore.open(path)
        except UsageStoreError:
            return  # the local collector says why the store cannot be written
        try:
            while not stop.is_set():
                was = col.status.error
                try:
                    report = col.collect(store)
                except RemoteError:
                    if col.status.error != was:
                        usage.wake()
                    stop.wait(RETRY_S)
                    continue
                except UsageStoreError:
                    stop.wait(RETRY_S)
                    continue
                if report.changed or was is not None:
                    usage.wake()
                stop.wait(POLL_S)
        finally:
            col.close()
            store.close()

    def lines(self) -> list[str]:
        """Two parts per box that cannot be read: that it cannot and its last good read,
        then ssh's reason (a narrow status line drops whole parts from its end)."""
        out = []
        for status in self.statuses.values():
            if status.error is None:
                out += status.notes  # agents it cannot read (no tokentop there)
                continue
            when = (time.strftime("%H:%M:%S", time.localtime(status.last_ok))
                    if status.last_ok else "never")
            reason = status.error.removeprefix(f"{status.host}: ")
            out += [f"{status.host} unreachable, last read {when}", reason]
        return out
