"""Gateway timestamps: parse what the gateway wrote, format what SQLite compares.

SQLite has no time type. The gateway (ongoingai/gateway internal/trace/sqlite.go,
commit f56ac42) opens its file with ``modernc.org/sqlite`` and no ``_time_format``,
and binds ``time.Time`` values, which that driver writes with Go's
``time.Time.String()``: ``2026-03-09 22:00:00.512345678 +0000 UTC`` (the fraction
has trailing zeros trimmed, and no dot at all on a whole second; the gateway's
writer passes ``time.Now().UTC()``, so there is never an ``m=+...`` suffix). That
is the form of ``timestamp`` and ``created_at`` in every row it writes, and of every
bound it compares them with (``filter.From.UTC()``, the cursor's
``createdAt.UTC()``). Other spellings :func:`parse_db_instant` still reads: the
driver's ``_time_format=sqlite`` (``2026-03-09 22:00:00.512345678+00:00``), RFC 3339
(``...T22:00:00Z``) and SQLite's ``CURRENT_TIMESTAMP`` (``2026-03-09 22:00:00``, UTC).

Go keeps nanoseconds; Python's ``datetime`` stops at microseconds. So times that
take part in a comparison (``--from``/``--to``, the keyset cursor) are an
:class:`Instant`, nanoseconds since the epoch: a bound is then written byte for byte
as the gateway writes it, and two traces in the same microsecond are still told
apart. Times that are only shown stay ``datetime`` (truncated to the microsecond).

SQLite compares that text as text, as the gateway's own queries and indexes do. A
bound is written in the same *style* as the column holds (:class:`TextStyle`, sniffed
from the newest row; Go's ``String()`` form when the table is empty), and then
compares exactly like the gateway's would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import msgspec

NS_PER_S = 1_000_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_DB_TIME = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?"
    r"\s*(?:([Zz])|([+-])(\d{2}):?(\d{2}))?(?:\s+[A-Za-z][A-Za-z0-9+-]*)?\s*$"
)
_FRACTION = re.compile(r"\d:\d{2}[.,](\d+)")


class Instant(msgspec.Struct, frozen=True, order=True):
    """A UTC instant with Go's precision: nanoseconds since the Unix epoch."""

    ns: int

    @classmethod
    def of(cls, when: datetime | Instant) -> Instant:
        """``when`` as an Instant (a naive datetime is UTC)."""
        if isinstance(when, Instant):
            return when
        delta = to_utc(when) - EPOCH
        return cls((delta.days * 86_400 + delta.seconds) * NS_PER_S
                   + delta.microseconds * 1000)

    def to_datetime(self) -> datetime:
        """The aware UTC datetime, truncated to the microsecond (as pgx binds it)."""
        return EPOCH + timedelta(microseconds=self.ns // 1000)

    def parts(self) -> tuple[datetime, int]:
        """(the whole second as a datetime, the nanoseconds after it)."""
        seconds, nanos = divmod(self.ns, NS_PER_S)
        return EPOCH + timedelta(seconds=seconds), nanos


def _fraction(nanos: int) -> str:
    """Go's ``.999999999``: the fraction without trailing zeros, "" when zero."""
    digits = f"{nanos:09d}".rstrip("0")
    return f".{digits}" if digits else ""


def parse_db_instant(text: str) -> Instant:
    """A gateway timestamp (any form above) as an Instant; fraction digits past the
    ninth are dropped, as Go's parser does. Text without an offset is UTC. ValueError."""
    m = _DB_TIME.match(text)
    if m is None:
        raise ValueError(f"unsupported timestamp: {text!r}")
    year, month, day, hour, minute, second, frac, _zulu, sign, oh, om = m.groups()
    offset = 0
    if sign:
        offset = (int(oh) * 60 + int(om)) * 60 * (-1 if sign == "-" else 1)
    whole = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                     tzinfo=UTC)
    nanos = int((frac or "0")[:9].ljust(9, "0"))
    return Instant(Instant.of(whole).ns - offset * NS_PER_S + nanos)


def parse_db_time(text: str) -> datetime:
    """A gateway timestamp as an aware UTC datetime (microseconds). ValueError."""
    return parse_db_instant(text).to_datetime()


def parse_user_instant(text: str) -> Instant:
    """A ``--from``/``--to`` value: ISO 8601 (naive is UTC), with all nine digits of a
    nanosecond fraction kept (``datetime.fromisoformat`` would drop the last three)."""
    from tokentop.store.timeparse import parse_instant

    when = Instant.of(parse_instant(text))
    m = _FRACTION.search(text)
    if m is not None and len(m.group(1)) > 6:
        when = Instant(when.ns + int(m.group(1)[6:9].ljust(3, "0")))
    return when


def to_utc(dt: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken as UTC."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def rfc3339_nano(when: datetime | Instant) -> str:
    """Go's ``time.RFC3339Nano`` in UTC: fraction with trailing zeros trimmed, ``Z``."""
    whole, nanos = Instant.of(when).parts()
    return f"{whole.strftime('%Y-%m-%dT%H:%M:%S')}{_fraction(nanos)}Z"


def go_string(when: datetime | Instant) -> str:
    """Go's ``t.UTC().String()``, which is what modernc.org/sqlite stores and binds."""
    return TextStyle().format(when)


def parse_rfc3339(text: str) -> Instant:
    """Strict RFC 3339 (``T``, offset required), as Go's time.Parse(RFC3339Nano)."""
    m = _DB_TIME.match(text)
    if m is None or "T" not in text.upper() or not (m.group(8) or m.group(9)):
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    return parse_db_instant(text)


GO_STRING_SUFFIX = " +0000 UTC"


@dataclass(frozen=True)
class TextStyle:
    """How one SQLite column writes its times, so bounds compare like its rows.

    The default is the gateway's: Go's ``time.Time.String()`` of a UTC time.
    """

    sep: str = " "
    suffix: str = GO_STRING_SUFFIX  # " +0000 UTC", "+00:00", "Z" or "" (no offset)

    @classmethod
    def sniff(cls, sample: str | None) -> TextStyle:
        """The style of ``sample`` (a stored value); the gateway's for None."""
        if not sample:
            return cls()
        text = sample.strip()
        sep = "T" if len(text) > 10 and text[10] in "Tt" else " "
        if text.endswith(("Z", "z")):
            suffix = "Z"
        elif re.search(r"\s[+-]\d{4}(\s+\S+)?$", text):
            suffix = GO_STRING_SUFFIX
        elif re.search(r"[+-]\d{2}:?\d{2}$", text[19:]):
            suffix = "+00:00"
        else:
            suffix = ""
        return cls(sep, suffix)

    def format(self, when: datetime | Instant) -> str:
        """``when`` (UTC) in this style, nanosecond fraction trimmed as Go writes it."""
        whole, nanos = Instant.of(when).parts()
        return f"{whole.strftime(f'%Y-%m-%d{self.sep}%H:%M:%S')}{_fraction(nanos)}{self.suffix}"


def floor_bucket(hour_start: datetime, bucket: str) -> datetime:
    """The start of the hour/day/week (weeks start on Monday, UTC) holding an hour."""
    hour_start = to_utc(hour_start).replace(minute=0, second=0, microsecond=0)
    if bucket == "hour":
        return hour_start
    day = hour_start.replace(hour=0)
    if bucket == "day":
        return day
    return day - timedelta(days=day.weekday())
