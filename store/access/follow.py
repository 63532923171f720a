"""An access-event JSONL log, read once or followed like ``tail -F``, into a summary.

Following is ``tokentop.store.tail.follower.FileFollower``'s, as for the events file
source (``tokentop.store.events.filesource.FileSource``): the file stays open, a partial
last line waits for its newline, a rotated file (renamed, recreated) is finished before
the new one is read, a truncated or rewritten one is read again from the top, and
``watchfiles`` (or polling) says when to look. Only what a line *means* differs, so
``AccessLog`` is a ``FileFollower`` with its own publishing of lines: each batch is
decoded outside the lock and folded into an ``AccessSummary`` under it, with the last
``TAIL`` events kept for the live tail.

A truncated or rewritten file resets the summary (the follower's ``_rewritten`` hook:
the log now holds other events); a rotated one does not (its events happened, and the
new file continues them). Malformed lines are counted (``stats.malformed``,
``stats.last_malformed``) and skipped, never raised.
"""

from __future__ import annotations

import threading
from collections import deque
from pathlib import Path

from tokentop.store.access.event import AccessEvent, decode_line
from tokentop.store.access.summary import TOP_PATHS, AccessSnapshot, AccessSummary
from tokentop.store.events.tracker import SourceStats
from tokentop.store.tail.follower import FileFollower

TAIL = 200  # recent events kept for the live tail


class AccessLog(FileFollower):
    """One access-event log and what has been read of it (thread-safe to look at)."""

    def __init__(self, path: str | Path, *, follow: bool = False, poll: bool = False,
                 tail: int = TAIL) -> None:
        # The event sources' counters: state, last error, received, malformed.
        self.stats = SourceStats()
        super().__init__(path, self.stats, follow=follow, poll=poll)
        self.lock = threading.Lock()
        self.summary = AccessSummary()
        self.tail: deque[AccessEvent] = deque(maxlen=tail)
        self.resets = 0  # times the file was truncated or rewritten under us

    def snapshot(self, top: int = TOP_PATHS) -> AccessSnapshot:
        with self.lock:
            return self.summary.snapshot(top)

    def recent(self, n: int) -> list[AccessEvent]:
        """The last ``n`` events read, oldest first."""
        with self.lock:
            return list(self.tail)[-n:] if n > 0 else []

    @property
    def version(self) -> int:
        """Moves whenever the summary or the source's counters do (a cheap fingerprint)."""
        st = self.stats
        return hash((self.summary.version, st.malformed, st.state, st.last_error))

    def document(self, top: int = TOP_PATHS) -> dict[str, object]:
        """The summary as JSON-ready data, with what was skipped (``--json``'s output)."""
        with self.lock:
            snap = self.summary.snapshot(top)
            st = self.stats
            return {"file": self.name, "malformed": st.malformed,
                    "last_malformed": st.last_malformed, **snap.to_dict()}

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
            parsed = decode_line(line)
            if isinstance(parsed, str):
                malformed += 1
                last_bad = " ".join(f"{self.name}:{self._lineno}: {parsed}".split())[:300]
                continue
            events.append(parsed)
        with self.lock:
            self.summary.add(events)
            self.tail.extend(events)
            self.stats.received += len(events)
            if malformed:
                self.stats.malformed += malformed
                self.stats.last_malformed = last_bad
                self.summary.version += 1
        return len(events)

    def _rewritten(self) -> None:
        with self.lock:  # the follower reads it again from the top
            self.summary.reset()
            self.tail.clear()
            self.stats.received = 0
            self.resets += 1
