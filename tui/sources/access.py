"""airstore access events (``--access``): one JSONL file, read and followed.

Started the first time the Access screen is shown. The screen redraws on its own
timer from ``log.version`` (a cheap hash), so the log never sends a message per line;
a crash is written into the log's own stats, where the screen shows its errors.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from tokentop.tui.sources.base import ThreadSource

if TYPE_CHECKING:
    from tokentop.store.access.follow import AccessLog
    from tokentop.tui.app import TokentopApp


class AccessFeed(ThreadSource):
    name = "access"
    what = "reading access events"

    def __init__(self, host: TokentopApp) -> None:
        from tokentop.store.access.follow import AccessLog

        super().__init__(host)
        assert host.access_path is not None
        self.log: AccessLog = AccessLog(host.access_path, follow=host.follow, poll=host.poll)

    def run(self, stop: threading.Event) -> None:
        self.log.run(stop)

    def fail(self, message: str) -> None:
        self.log.stats.state = "failed"
        self.log.stats.last_error = message
        super().fail(message)
