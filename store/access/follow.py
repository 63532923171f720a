"""An access-event JSONL log, read once or followed like ``tail -F``, into a summary.

Following is ``tokentop.store.tail.follower.FileFollower``'s, as for the events file
source (``tokentop.store.events.filesource.FileSource``): the file stays open, a partial
last line waits for its newline, a rotated file (renamed, recreated) is finished before
the new one is read, a truncated or rewritten one is read again from the top, and
``watchfiles`` (or polling) says when to look. Only what a line *means* differs: each
line is one airstore ``AccessEvent`` or one saved page of the REST API
(``event.decode_line``); a batch is decoded outside the lock and counted by the
``AccessBook``.

A truncated or rewritten file resets the summary (the follower's ``_rewritten`` hook:
the log now holds other events); a rotated one does not (its events happened, and the
new file continues them). Malformed lines are counted (``stats.malformed``,
``stats.last_malformed``) and skipped, never raised.
"""

from __future__ import annotations

import threading
from pathlib import Path

from tokentop.store.access.book import TAIL, AccessBook
from tokentop.store.access.event import AccessEvent, decode_records
from tokentop.store.access.summary import AccessSnapshot
from tokentop.store.tail.follower import FileFollower


class AccessLog(AccessBook, FileFollower):
    """One access-event log and what has been read of it (thread-safe to look at)."""

    def __init__(self, path: str | Path, *, follow: bool = False, poll: bool = False,
                 tail: int = TAIL) -> None:
        AccessBook.__init__(self, tail)
        FileFollower.__init__(self, path, self.stats, follow=follow, poll=poll)

    def read_all(self) -> AccessSnapshot:
        """Read the file once to its end (``follow`` is ignored) and summarise it."""
        self.follow = False
        self.run(threading.Event())
        return self.snapshot()

    # -- FileFollower hooks ------------------------------------------------------------

    def _publish(self, lines: list[bytes]) -> int:
        events: list[AccessEvent] = []
        malformed = 0
        last_bad: str | None = None
        for raw in lines:
            self._lineno += 1
            line = raw.strip()
            if not line:
                continue
            parsed, bad, why = decode_records(line)
            if bad:
                malformed += bad
                last_bad = " ".join(f"{self.name}:{self._lineno}: {why}".split())[:300]
            events.extend(parsed)
        return self.take(events, malformed, last_bad)

    def _rewritten(self) -> None:
        self.forget()  # the follower reads it again from the top
