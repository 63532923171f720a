"""What every access source has read: the summary, the live tail and the counters.

A file followed (``follow.AccessLog``), a saved API page (``page.AccessPageFile``) and
airstore's REST API (``api.AccessApi``) differ only in how events arrive; each is an
``AccessBook``, so the screen and the headless command read any of them the same way:
``snapshot()``, ``recent(n)``, ``version``, ``document()``, ``stats``.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable

from tokentop.store.access.event import AccessEvent
from tokentop.store.access.summary import TOP_PATHS, AccessSnapshot, AccessSummary
from tokentop.store.events.tracker import SourceStats

TAIL = 200  # recent events kept for the live tail


class AccessBook:
    """The summary and tail of one source, under one lock (thread-safe to look at)."""

    follow: bool = False
    name: str  # what the source is called (a path, ``<stdin>``, a URL without credentials)

    def __init__(self, tail: int = TAIL) -> None:
        # The event sources' counters: state, last error, received, malformed, duplicates.
        self.stats = SourceStats()
        self.lock = threading.Lock()
        self.summary = AccessSummary()
        self.tail: deque[AccessEvent] = deque(maxlen=tail)
        self.resets = 0  # times the source was rewritten under us

    def snapshot(self, top: int = TOP_PATHS) -> AccessSnapshot:
        with self.lock:
            return self.summary.snapshot(top)

    def recent(self, n: int) -> list[AccessEvent]:
        """The last ``n`` events counted, oldest first."""
        with self.lock:
            return list(self.tail)[-n:] if n > 0 else []

    @property
    def version(self) -> int:
        """Moves whenever the summary or the source's counters do (a cheap fingerprint)."""
        st = self.stats
        return hash((self.summary.version, st.malformed, st.state, st.last_error, st.retry_in))

    def document(self, top: int = TOP_PATHS) -> dict[str, object]:
        """The summary as JSON-ready data, with what was skipped (``--json``'s output)."""
        with self.lock:
            snap = self.summary.snapshot(top)
            st = self.stats
            return {**snap.to_dict(), "source": self.name, "malformed": st.malformed,
                    "last_malformed": st.last_malformed}

    def take(self, events: Iterable[AccessEvent], malformed: int = 0,
             last_bad: str | None = None) -> int:
        """Count events (deduplicated on ``event_id``) and malformed records; returns how
        many events were new."""
        with self.lock:
            counted = self.summary.add(events)
            self.tail.extend(counted)
            self.stats.received += len(counted)
            self.stats.duplicates = self.summary.duplicates
            if malformed:
                self.stats.malformed += malformed
                self.stats.last_malformed = last_bad
                self.summary.version += 1
        return len(counted)

    def forget(self) -> None:
        """Start again from nothing (the source now holds other events)."""
        with self.lock:
            self.summary.reset()
            self.tail.clear()
            self.stats.received = 0
            self.stats.duplicates = 0
            self.resets += 1
