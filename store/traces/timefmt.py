"""Gateway timestamps: parse what the gateway wrote, format what SQLite compares.

SQLite has no time type: the gateway's Go driver stores ``DATETIME`` as text in its
own form (modernc.org/sqlite: ``2026-05-05 12:00:00.123456789+00:00``, fraction
trimmed), older rows or other writers use RFC 3339 (``...T12:00:00Z``), Go's
``time.String()`` (``2026-05-05 12:00:00 +0000 UTC``) or SQLite's own
``CURRENT_TIMESTAMP`` (``2026-05-05 12:00:00``, UTC). :func:`parse_db_time` reads all
of them (fractions beyond microseconds are truncated: Python's datetime and
PostgreSQL's TIMESTAMPTZ both stop there).

SQLite compares that text as text, which is what the gateway's own queries and
indexes do. So a bound (``--from``, a cursor) is written in the same *style* as the
column already holds (:class:`TextStyle`, sniffed from one row), and then compares
exactly like the gateway's would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

_DB_TIME = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?"
    r"\s*(?:([Zz])|([+-])(\d{2}):?(\d{2}))?(?:\s+[A-Za-z][A-Za-z0-9+-]*)?\s*$"
)


def parse_db_time(text: str) -> datetime:
    """A gateway timestamp (any form above) as an aware UTC datetime.

    Text without an offset is UTC (SQLite's CURRENT_TIMESTAMP). Raises ValueError.
    """
    m = _DB_TIME.match(text)
    if m is None:
        raise ValueError(f"unsupported timestamp: {text!r}")
    year, month, day, hour, minute, second, frac, _zulu, sign, oh, om = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    tz: timezone = UTC
    if sign:
        delta = timedelta(hours=int(oh), minutes=int(om))
        tz = timezone(-delta if sign == "-" else delta)
    dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                  micro, tzinfo=tz)
    return dt.astimezone(UTC)


def to_utc(dt: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken as UTC."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def rfc3339_nano(dt: datetime) -> str:
    """Go's ``time.RFC3339Nano`` in UTC: fraction with trailing zeros trimmed, ``Z``."""
    dt = to_utc(dt)
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    frac = f"{dt.microsecond:06d}".rstrip("0")
    return f"{base}.{frac}Z" if frac else f"{base}Z"


def parse_rfc3339(text: str) -> datetime:
    """Strict RFC 3339 (``T``, offset required), as Go's time.Parse(RFC3339Nano)."""
    m = _DB_TIME.match(text)
    if m is None or "T" not in text.upper() or not (m.group(8) or m.group(9)):
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    return parse_db_time(text)


@dataclass(frozen=True)
class TextStyle:
    """How one SQLite column writes its times, so bounds compare like its rows."""

    sep: str = " "
    suffix: str = "+00:00"  # "+00:00", "Z", "" (no offset) or " +0000 UTC"

    @classmethod
    def sniff(cls, sample: str | None) -> TextStyle:
        """The style of ``sample`` (a stored value); the Go driver's for None."""
        if not sample:
            return cls()
        text = sample.strip()
        sep = "T" if len(text) > 10 and text[10] in "Tt" else " "
        if text.endswith(("Z", "z")):
            suffix = "Z"
        elif re.search(r"\s[+-]\d{4}(\s+\S+)?$", text):
            suffix = " +0000 UTC"
        elif re.search(r"[+-]\d{2}:?\d{2}$", text[19:]):
            suffix = "+00:00"
        else:
            suffix = ""
        return cls(sep, suffix)

    def format(self, dt: datetime) -> str:
        """``dt`` (UTC) in this style, fraction trimmed as Go writes it."""
        dt = to_utc(dt)
        frac = f"{dt.microsecond:06d}".rstrip("0")
        text = dt.strftime(f"%Y-%m-%d{self.sep}%H:%M:%S")
        return f"{text}.{frac}{self.suffix}" if frac else f"{text}{self.suffix}"


def floor_bucket(hour_start: datetime, bucket: str) -> datetime:
    """The start of the hour/day/week (weeks start on Monday, UTC) holding an hour."""
    hour_start = to_utc(hour_start).replace(minute=0, second=0, microsecond=0)
    if bucket == "hour":
        return hour_start
    day = hour_start.replace(hour=0)
    if bucket == "day":
        return day
    return day - timedelta(days=day.weekday())
