"""airstore access events (``--access``): the REST API polled, or a file followed.

``--access https://HOST/api/v1/workspaces/WS`` pages airstore's access log with its
cursor and then polls it (the token from ``AIRSTORE_TOKEN``); a FILE (JSONL of events
or saved pages, or one saved page) is read and followed; ``-`` is stdin. Started the
first time the Access screen is shown. The screen redraws on its own timer from
``log.version`` (a cheap hash), so the source never sends a message per read; a crash
or a refused token is written into the source's own stats, where the screen shows it.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from tokentop.tui.sources.base import ThreadSource

if TYPE_CHECKING:
    from tokentop.store.access import AccessSource
    from tokentop.tui.app import TokentopApp


class AccessFeed(ThreadSource):
    name = "access"
    what = "reading access events"

    def __init__(self, host: TokentopApp) -> None:
        from tokentop.store.access import TOKEN_ENV, open_source
        from tokentop.store.access.source import Unusable

        super().__init__(host)
        assert host.access_path is not None
        reader = open_source(host.access_path, token=os.environ.get(TOKEN_ENV) or None,
                             follow=host.follow, poll=host.poll)
        # A URL that names no workspace is said on the screen, in the source's stats.
        self.log: AccessSource = Unusable(reader) if isinstance(reader, str) else reader

    def run(self, stop: threading.Event) -> None:
        self.log.run(stop)

    def fail(self, message: str) -> None:
        self.log.stats.state = "failed"
        self.log.stats.last_error = message
        super().fail(message)
