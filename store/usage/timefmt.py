"""``occurred_at`` as text: written fixed-width, read in either width.

SQLite compares ``occurred_at`` as text, so the text must sort like the instant.
openusage writes Go's RFC3339Nano, which trims trailing zeros: ``...:03.5Z`` and
``...:03.512Z`` are both possible, and ``'.5Z' > '.512Z'`` because ``'Z' > '1'``, so
string order misorders events within one second. tokentop writes every instant with
exactly nine fractional digits and ``Z`` (``2026-11-20T09:14:03.512000000Z``), which
sorts as text, and reads both forms. Range queries use :func:`bound`, which is correct
for both widths.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def _utc(dt: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    if dt.tzinfo is UTC or dt.utcoffset() == timedelta(0):
        return dt
    return dt.astimezone(UTC)


def format_ts(dt: datetime) -> str:
    """Fixed-width UTC text, e.g. ``2026-11-20T09:14:03.512000000Z``; sorts as text.

    Python datetimes hold microseconds, so the last three digits are always ``000``.
    """
    return _utc(dt).replace(tzinfo=None).isoformat(timespec="microseconds") + "000Z"


def parse_ts(text: str) -> datetime:
    """Read fixed-width text or Go RFC3339Nano (any fraction width, any offset).

    Returns an aware UTC datetime; digits beyond microseconds are dropped. A value
    without an offset is taken as UTC. Raises ValueError for anything else.
    """
    s = text.strip()
    if s[-1:] in ("z", "Z"):
        s = s[:-1] + "+00:00"
    if len(s) > 10 and s[10] in " t":
        s = s[:10] + "T" + s[11:]
    dot = s.find(".", 19)
    if dot != -1:
        end = dot + 1
        while end < len(s) and s[end].isdigit():
            end += 1
        frac = s[dot + 1 : end]
        if not frac:
            raise ValueError(f"not a timestamp: {text!r}")
        s = s[:dot] + "." + (frac + "000000")[:6] + s[end:]
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def bound(dt: datetime) -> str:
    """A range bound for text comparison that is right for BOTH widths.

    ``occurred_at >= bound(start) AND occurred_at < bound(end)`` selects the events of
    the half-open range [start, end) whether a row was written by tokentop
    (``...:03.512000000Z``) or by openusage (``...:03.512Z``, ``...:03Z``). The bound is
    the UTC second with no fraction and no ``Z`` (``2026-11-20T00:00:00``): it is a
    proper prefix of every stored value in that second, and a prefix sorts before
    anything that extends it, whatever comes next (``'.'`` for a fraction or ``'Z'``
    for none, and ``'.' < 'Z'`` anyway); every earlier second differs at a digit and
    sorts before it. A bound *with* a fraction cannot be right for both widths (the
    stored ``'.5Z'`` sorts after ``'.512'``), so a fractional ``dt`` is floored to its
    second: ranges are in whole seconds.
    """
    return _utc(dt).replace(tzinfo=None, microsecond=0).isoformat(timespec="seconds")


def epoch_ms(dt: datetime) -> int:
    """Whole milliseconds since the epoch (exact, no float rounding)."""
    return (_utc(dt) - EPOCH) // _MS
