"""Numbers out of the gateway's numeric columns, whatever was written there."""

from __future__ import annotations

import math
from typing import Any


def as_int(value: Any) -> int | None:
    """A numeric column's value as the gateway meant it: SQLite keeps whatever was
    written (text, a BLOB) in an INTEGER column, and ``int(b"\\x00")`` was a traceback.
    Not a finite number: None, shown as unknown."""
    if type(value) is int:
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            f = as_float(value)
            return None if f is None else int(f)
    return None


def as_float(value: Any) -> float | None:
    """As :func:`as_int`, for a REAL column."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, str):
        try:
            f = float(value.strip())
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    return None
