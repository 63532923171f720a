"""RFC 3339 timestamps to UTC minutes, fast.

Replay parses one timestamp per line, millions of times. Lines of the same minute
share their first 16 characters, so the calendar part is parsed once per minute
(cached) and only the offset suffix is looked at per line.
"""

from __future__ import annotations

from datetime import UTC, datetime

_minute_cache: dict[str, int] = {}


def _calendar_minute(prefix: str) -> int:
    """Minutes since the epoch of a naive ``YYYY-MM-DDTHH:MM`` read as UTC."""
    minute = _minute_cache.get(prefix)
    if minute is None:
        if len(prefix) != 16 or prefix[4] != "-" or prefix[10] not in "Tt ":
            raise ValueError(f"not an RFC 3339 timestamp: {prefix!r}")
        dt = datetime(
            int(prefix[0:4]), int(prefix[5:7]), int(prefix[8:10]),
            int(prefix[11:13]), int(prefix[14:16]), tzinfo=UTC,
        )
        minute = int(dt.timestamp()) // 60
        if len(_minute_cache) > 100_000:
            _minute_cache.clear()
        _minute_cache[prefix] = minute
    return minute


def _offset_minutes(ts: str) -> int:
    """The UTC offset of an RFC 3339 timestamp, in minutes east."""
    last = ts[-1]
    if last in "Zz":
        return 0
    sign = ts[-6]
    if sign not in "+-" or ts[-3] != ":":
        raise ValueError(f"timestamp has no UTC offset: {ts!r}")
    minutes = int(ts[-5:-3]) * 60 + int(ts[-2:])
    return -minutes if sign == "-" else minutes


def utc_minute(ts: str) -> int:
    """Floor an RFC 3339 timestamp (any fraction, any offset) to its UTC minute.

    Raises ValueError for anything that is not one.
    """
    if len(ts) < 17:
        raise ValueError(f"not an RFC 3339 timestamp: {ts!r}")
    return _calendar_minute(ts[:16]) - _offset_minutes(ts)


def parse_instant(text: str) -> datetime:
    """Parse a user-given ISO 8601 instant; naive values are taken as UTC."""
    dt = datetime.fromisoformat(text.strip())
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def minute_to_datetime(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, tz=UTC)


def minute_to_iso(minute: int) -> str:
    """``2026-05-05T12:01:00Z``: the fixed-width UTC form tokentop writes."""
    return minute_to_datetime(minute).strftime("%Y-%m-%dT%H:%M:00Z")
