"""Number, money and time formatting shared by every screen.

One place decides how a token count or a cost looks, so the KPI cards, the server
list, the chart axes and the help text never disagree (and tests can assert on the
exact strings). Times arrive as UTC minutes from the store and leave as local time:
the store and the JSON stay UTC, only the UI converts.
"""

from __future__ import annotations

import time
import unicodedata
from datetime import datetime

from rich.text import Text

_SUFFIXES = ((1_000_000_000_000, "T"), (1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k"))


def tokens(n: int) -> str:
    """A token count in at most five characters: ``999``, ``1.2k``, ``123k``, ``3.4M``."""
    sign = "-" if n < 0 else ""
    n = abs(n)
    for size, suffix in _SUFFIXES:
        if n >= size * 0.9995:  # 999_950 is "1.0M", not "1000k"
            value = n / size
            text = f"{value:.1f}" if value < 99.95 else f"{value:.0f}"
            return f"{sign}{text}{suffix}"
    return f"{sign}{n}"


def count(n: int) -> str:
    """A plain counter (lines, files): exact with separators until it gets long."""
    return f"{n:,}" if n < 1_000_000 else tokens(n)


def usd(micro: int | None) -> str:
    """Cost from micro-USD: ``$0.0123`` below a dollar, ``$12.34`` above, ``$12.3k`` in bulk.

    ``None`` (a server that never reported cost) is an em dash, not ``$0``: unknown
    is not free.
    """
    if micro is None:
        return "—"
    if micro == 0:
        return "$0.00"
    sign = "-" if micro < 0 else ""
    dollars = abs(micro) / 1_000_000
    if dollars < 0.0001:
        return f"{sign}<$0.0001"
    if dollars < 1:
        return f"{sign}${dollars:.4f}"
    if dollars < 10_000:
        return f"{sign}${dollars:,.2f}"
    return f"{sign}${tokens(round(dollars))}"


def usd_axis(micro: float) -> str:
    """A cost axis label: as short as the scale allows (``$0``, ``$0.05``, ``$1.5``)."""
    dollars = micro / 1_000_000
    if dollars == 0:
        return "$0"
    if dollars >= 1000:
        return f"${tokens(round(dollars))}"
    for digits in range(0, 7):
        text = f"{dollars:.{digits}f}"
        if abs(float(text) - dollars) <= abs(dollars) * 0.01:
            return f"${text}"
    return f"${dollars:.6f}"


def nbytes(n: int) -> str:
    """File sizes for the replay progress line."""
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"  # pragma: no cover - the loop always returns


def ago(seconds: float) -> str:
    """``just now``, ``12s ago``, ``3m ago``, ``2h ago``, ``4d ago``."""
    s = int(max(0.0, seconds))
    if s < 2:
        return "just now"
    if s < 60:
        return f"{s}s ago"
    if s < 3600:
        return f"{s // 60}m ago"
    if s < 86400:
        return f"{s // 3600}h ago"
    return f"{s // 86400}d ago"


def local_dt(minute: int) -> datetime:
    """A UTC minute as an aware datetime in the local time zone (``TZ`` honoured)."""
    return datetime.fromtimestamp(minute * 60).astimezone()


def local_offset_minutes(minute: int) -> int:
    """The local UTC offset at that minute, in minutes east (DST-aware)."""
    return time.localtime(minute * 60).tm_gmtoff // 60


def local_stamp(minute: int) -> str:
    """``2026-05-05 12:30``: an unambiguous local date and time."""
    return local_dt(minute).strftime("%Y-%m-%d %H:%M")


def range_label(name: str) -> str:
    """What a range covers, in words, for the scope line."""
    return {
        "30m": "last 30 min",
        "1h": "last hour",
        "6h": "last 6 hours",
        "24h": "last 24 hours",
        "7d": "last 7 days",
        "all": "all retained",
    }.get(name, name)


def _escape_char(ch: str) -> str:
    if ch in "\t":
        return " "
    if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"):
        code = ord(ch)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return ch


def clean(value: object) -> str:
    """Untrusted text with control and format characters made visible (``\\x1b``).

    A server name or a path comes from the filesystem: it may carry an escape
    sequence or a newline that would repaint the terminal or break a row.
    """
    text = str(value)
    if text.isprintable():
        return text
    return "".join(_escape_char(ch) for ch in text)


def safe(value: object, style: str = "") -> Text:
    """Untrusted text as a ``rich.text.Text``: never parsed as markup, controls escaped."""
    return Text(clean(value), style=style, no_wrap=True, overflow="ellipsis")
