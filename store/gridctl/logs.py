"""gridctl's ``logs.jsonl``: Go ``slog`` JSON records, one per line (DESIGN 2.1).

A record is ``{"ts": ..., "level": ..., "msg": ..., <flat attributes>}``; gridctl's
router adds ``server`` or ``component`` (which server the line belongs to), and the
gateway adds ``tool``, ``duration`` (a Go ``time.Duration``: integer nanoseconds),
``trace_id`` and whatever else the call site logged. ``ts`` carries the *local* offset
of the machine gridctl ran on (``2026-05-05T14:01:00.123+02:00``): the instant is what
counts for ordering and display (shown in the viewer's local time), the original text
is kept for the detail view.

Lines are decoded with msgspec into a plain dict (attribute sets are open), then split
into the few fields every view needs and the rest. Anything that is not a JSON object
with a parseable ``ts`` (or slog's default ``time``) is malformed: counted, skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec

NS = 1_000_000_000

# slog's levels and their numbers; "WARN+2" style offsets are slog's custom levels.
LEVELS: dict[str, int] = {"DEBUG": -4, "INFO": 0, "WARN": 4, "ERROR": 8}
LEVEL_NAMES = ("DEBUG", "INFO", "WARN", "ERROR")
_LEVEL_ALIASES = {"WARNING": "WARN", "ERR": "ERROR", "TRACE": "DEBUG", "FATAL": "ERROR",
                  "DBG": "DEBUG", "INF": "INFO", "WRN": "WARN"}
_LEVEL_RE = re.compile(r"^([A-Za-z]+)([+-]\d+)?$")

_MINUTE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})$")
_REST_RE = re.compile(r":(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$")
_MINUTES: dict[str, int] = {}  # "YYYY-MM-DDTHH:MM" -> seconds since the epoch (as UTC)
_LEVEL_CACHE: dict[str, int] = {}

_decoder = msgspec.json.Decoder(dict[str, Any])

# Keys that are the record itself, not attributes.
_CORE = ("ts", "time", "level", "msg")


def parse_rfc3339_ns(ts: str) -> tuple[int, int]:
    """(nanoseconds since the epoch, UTC offset in minutes east) of an RFC 3339 time.

    All nine fractional digits are kept (Go writes them); ``datetime`` would drop three.
    The calendar part is parsed once per minute (cached): a log has many lines a minute.
    Raises ValueError for anything else.
    """
    head = ts[:16]
    base = _MINUTES.get(head)
    if base is None:
        m = _MINUTE_RE.match(head)
        if m is None:
            raise ValueError(f"not an RFC 3339 timestamp: {ts!r}")
        year, mon, day, hh, mm = (int(m[i]) for i in range(1, 6))
        try:
            base = int(datetime(year, mon, day, hh, mm, tzinfo=UTC).timestamp())
        except ValueError:
            raise ValueError(f"not an RFC 3339 timestamp: {ts!r}") from None
        if len(_MINUTES) > 100_000:
            _MINUTES.clear()
        _MINUTES[head] = base
    r = _REST_RE.match(ts, 16)
    if r is None:
        raise ValueError(f"not an RFC 3339 timestamp: {ts!r}")
    sec = int(r[1])
    if sec > 60:
        raise ValueError(f"not an RFC 3339 timestamp: {ts!r}")
    frac = int(r[2].ljust(9, "0")) if r[2] else 0
    offset = 0
    if r[4]:
        offset = int(r[5]) * 60 + int(r[6])
        if r[4] == "-":
            offset = -offset
    seconds = base + min(sec, 59) - offset * 60  # a leap second counts as :59
    return seconds * NS + frac, offset


def level_number(level: str) -> int:
    """slog's number of a level name: DEBUG -4, INFO 0, WARN 4, ERROR 8, ``INFO+2`` 2.

    Unknown names count as INFO: a line is never hidden because its level is odd.
    """
    number = _LEVEL_CACHE.get(level)
    if number is not None:
        return number
    m = _LEVEL_RE.match(level.strip())
    if m is None:
        number = 0
    else:
        name = m[1].upper()
        name = _LEVEL_ALIASES.get(name, name)
        number = LEVELS.get(name, 0) + (int(m[2]) if m[2] else 0)
    if len(_LEVEL_CACHE) < 1000:
        _LEVEL_CACHE[level] = number
    return number


def level_badge(number: int) -> str:
    """The base level a number belongs to (``INFO+2`` is shown as INFO)."""
    if number >= LEVELS["ERROR"]:
        return "ERROR"
    if number >= LEVELS["WARN"]:
        return "WARN"
    if number >= LEVELS["INFO"]:
        return "INFO"
    return "DEBUG"


def _flatten(prefix: str, value: dict[str, Any], out: dict[str, Any]) -> None:
    """slog groups (``WithGroup``) nest objects; shown as dotted keys like ``req.id``."""
    for key, inner in value.items():
        name = f"{prefix}.{key}"
        if isinstance(inner, dict) and inner:
            _flatten(name, inner, out)
        else:
            out[name] = inner


@dataclass(slots=True)
class LogRecord:
    """One slog record of one server (``server`` is the file's ``stack/server``)."""

    server: str
    ns: int  # the instant, nanoseconds since the epoch (UTC)
    ts: str  # the original text, offset included
    offset_min: int  # the writer's UTC offset, minutes east
    level: str  # as written (``WARN``, ``INFO+2``)
    level_no: int
    msg: str
    attrs: dict[str, Any] = field(default_factory=dict)
    seq: int = 0  # arrival order within a reader: a stable id for the UI
    _search: str | None = None

    @property
    def badge(self) -> str:
        return level_badge(self.level_no)

    @property
    def component(self) -> str:
        """The routing key gridctl used: ``component`` wins over ``server`` (seed 001)."""
        value = self.attrs.get("component") or self.attrs.get("server") or ""
        return value if isinstance(value, str) else str(value)

    @property
    def tool(self) -> str:
        value = self.attrs.get("tool", "")
        return value if isinstance(value, str) else str(value)

    @property
    def trace_id(self) -> str:
        value = self.attrs.get("trace_id", "")
        return value if isinstance(value, str) else str(value)

    @property
    def duration_ns(self) -> int | None:
        value = self.attrs.get("duration")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        return None

    @property
    def search_text(self) -> str:
        """Lower-cased message and attribute values: what ``/`` and ``--grep`` match."""
        if self._search is None:
            parts = [self.msg, self.level]
            for key, value in self.attrs.items():
                parts.append(f"{key}={value}")
            self._search = "\n".join(parts).lower()
        return self._search

    def matches(self, min_level: int | None = None, text: str = "") -> bool:
        if min_level is not None and self.level_no < min_level:
            return False
        return not text or text.lower() in self.search_text

    def to_json(self) -> dict[str, Any]:
        """The headless form: UTC instant, original ``ts``, every attribute."""
        return {"server": self.server, "time": iso_utc(self.ns), "ts": self.ts,
                "level": self.level, "msg": self.msg, "attrs": self.attrs}


def iso_utc(ns: int) -> str:
    """``2026-05-05T12:01:00.123456789Z``: UTC, fractional digits trimmed."""
    sec, frac = divmod(ns, NS)
    stamp = datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        stamp += "." + f"{frac:09d}".rstrip("0")
    return stamp + "Z"


class Malformed(ValueError):
    """A line that is not a slog JSON record."""


def parse_record(raw: bytes | str, server: str) -> LogRecord:
    """Decode one line. Raises ``Malformed`` (with why) for anything else."""
    try:
        obj = _decoder.decode(raw)
    except msgspec.DecodeError as exc:
        raise Malformed(f"not a JSON object: {exc}") from None
    ts = obj.get("ts")
    if ts is None:
        ts = obj.get("time")  # slog.JSONHandler's default key
    if not isinstance(ts, str):
        raise Malformed("no ts")
    try:
        ns, offset = parse_rfc3339_ns(ts)
    except ValueError as exc:
        raise Malformed(str(exc)) from None
    level = obj.get("level", "INFO")
    if not isinstance(level, str):
        level = str(level)
    msg = obj.get("msg", "")
    if not isinstance(msg, str):
        msg = str(msg)
    for key in _CORE:
        obj.pop(key, None)
    attrs = obj
    if any(type(v) is dict for v in obj.values()):  # slog groups: rare
        attrs = {}
        for key, value in obj.items():
            if isinstance(value, dict) and value:
                _flatten(key, value, attrs)
            else:
                attrs[key] = value
    return LogRecord(server, ns, ts, offset, level, level_number(level), msg, attrs)


@dataclass
class ParseCounts:
    lines: int = 0
    malformed: int = 0
    blank: int = 0
    last_error: str | None = None  # why the last malformed line was rejected


def parse_lines(lines: list[bytes], server: str, counts: ParseCounts) -> list[LogRecord]:
    """Parse a batch in file order; blank lines and malformed ones are only counted."""
    out: list[LogRecord] = []
    counts.lines += len(lines)
    for raw in lines:
        if not raw.strip():
            counts.blank += 1
            continue
        try:
            out.append(parse_record(raw, server))
        except Malformed as exc:
            counts.malformed += 1
            counts.last_error = str(exc)
    return out


def min_level(name: str | None) -> int | None:
    """``--level warn`` -> 4; None or ``all`` -> None. Raises ValueError for unknown names."""
    if name is None or name.lower() in ("", "all"):
        return None
    key = name.strip().upper()
    key = _LEVEL_ALIASES.get(key, key)
    if key not in LEVELS:
        raise ValueError(f"unknown level {name!r} (debug, info, warn, error)")
    return LEVELS[key]


def human_duration(ns: int) -> str:
    """A Go duration in nanoseconds as a person reads it: ``1.25 s``, ``340 ms``, ``12 µs``."""
    sign = "-" if ns < 0 else ""
    n = abs(ns)
    if n < 1_000:
        return f"{sign}{n} ns"
    for size, unit in ((3_600 * NS, "h"), (60 * NS, "min"), (NS, "s"), (1_000_000, "ms"),
                       (1_000, "µs")):
        if n >= size:
            value = n / size
            if unit in ("h", "min") or value >= 100:
                text = f"{value:.0f}" if value >= 100 or unit in ("ms", "µs") else f"{value:.1f}"
            elif value >= 10:
                text = f"{value:.1f}"
            else:
                text = f"{value:.2f}"
            text = text.rstrip("0").rstrip(".") if "." in text else text
            return f"{sign}{text} {unit}"
    return f"{sign}{n} ns"  # unreachable
