"""What one usage event can carry: the sane window every reader and writer agrees on.

A log line is untrusted. A token count past SQLite's int64 made a batch fail whole
(OverflowError) and wedged every later run; a NaN or huge cost, or a year-9999 time,
broke the reports (a 5-hour block past year 9999 cannot be computed). The bounds are far
past anything real, so only a broken or hostile line meets them: 10^11 tokens (a
session's running total of cache reads over weeks is under 10^10), $10^6, and times from
2000 to a day past this machine's clock (another box's clock may run ahead). Ingest
refuses what is outside (``tokentop.store.usage.ingest``); reports skip what an older
store or another writer left outside, rather than fail on it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

MAX_TOKENS = 10**11
MAX_COST = 1e6
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
AHEAD = timedelta(days=1)


def latest() -> datetime:
    """The newest time an event may carry: this machine's clock plus ``AHEAD``."""
    return datetime.now(UTC) + AHEAD
