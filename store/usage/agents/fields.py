"""Field readers several agent collectors share: ccusage's timestamp shapes and its
"a non-blank string, trimmed" rule, written once so the collectors cannot drift."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

# ccusage's ``parse_ts_timestamp``: RFC 3339 with seconds, optional milliseconds, Z or
# an offset. Anything else is no timestamp (the collector falls back as ccusage does).
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?(Z|[+-]\d\d:\d\d)\Z")


def rfc3339(text: str | None) -> datetime | None:
    """An aware UTC time when ``text`` has one of ccusage's shapes, else None."""
    if text is None or not _RFC3339.match(text):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def text_field(record: Any, key: str) -> str | None:
    """``record[key]`` when it is a non-blank string, trimmed; else None."""
    value = record.get(key) if isinstance(record, dict) else None
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def as_u64(value: object) -> int:
    """serde_json's ``as_u64``: a non-negative integer, else 0 (booleans are not)."""
    return value if type(value) is int and value >= 0 else 0


def clean_string(value: object) -> str | None:
    """A non-blank string, trimmed; else None."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None
