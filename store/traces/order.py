"""The trace list in another order than the gateway's: by latency, cost, tokens, or oldest
first, across every page (issue 17: a sort that only reorders the page loaded answers
"the slowest of these 50", not "the slowest request").

The gateway's own order (``created_at DESC, id DESC``) keeps its byte-compatible cursor
(store/traces/cursor.py). Every other order pages by a keyset on (the column's stored
value, id): the next page is the rows strictly after the last row's pair, so a page at
any depth is one query and never an OFFSET, and rows written meanwhile neither repeat
nor vanish. The bound is the last row's value exactly as the database returned it (an
int, a float, SQLite's text, PostgreSQL's timestamp), so the comparison is the very
order of the ``ORDER BY``, whatever odd values a store holds.

Rows without a value (no latency recorded, an unpriced trace) come last in both
directions, as in the tables' sorts (tui/widgets/sorting.py): a reversed cost sort shows
the cheapest priced traces first, not a page of ``—``.

Such a cursor is ``s1.`` + base64url of JSON ``[order, ascending, value, id]``; ``.`` is
not in base64url, so it never reads as a gateway cursor, and a cursor of one order is
refused by another (InvalidCursorError) rather than paging from a wrong place.

Cost of a page: no index covers these columns, so each page scans the filtered rows
and keeps the top ``limit`` (SQLite's sorter with a LIMIT; PostgreSQL's top-N sort).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from tokentop.store.traces.errors import InvalidCursorError

# The list's orders and the column each one sorts by.
ORDER_COLUMNS = {"created": "created_at", "latency": "latency_ms",
                 "cost": "estimated_cost_usd", "tokens": "total_tokens"}
ORDERS: tuple[str, ...] = tuple(ORDER_COLUMNS)
PREFIX = "s1."


def is_gateway_order(order: str, ascending: bool) -> bool:
    """The gateway's own order: newest first, with its own cursor."""
    return order == "created" and not ascending


def check_order(order: str) -> str:
    if order not in ORDER_COLUMNS:
        raise InvalidCursorError(f"unknown order {order!r}: one of {', '.join(ORDERS)}")
    return ORDER_COLUMNS[order]


def order_sql(order: str, ascending: bool) -> str:
    """``ORDER BY`` of a sorted list: values first, missing ones last, then the id."""
    column = check_order(order)
    way = "ASC" if ascending else "DESC"
    return f"({column} IS NULL), {column} {way}, id {way}"


def after_sql(order: str, ascending: bool, value: Any) -> tuple[str, list[Any]]:
    """The condition for the rows after (``value``, id) in that order, and its
    arguments but for the id (always last)."""
    column = check_order(order)
    op = ">" if ascending else "<"
    if value is None:  # among the rows without a value: by id alone
        return f"({column} IS NULL AND id {op} ?)", []
    return (f"(({column} IS NOT NULL AND ({column} {op} ? OR ({column} = ? AND id {op} ?)))"
            f" OR {column} IS NULL)", [value, value])


def encode_sort_cursor(order: str, ascending: bool, value: Any, trace_id: str) -> str:
    payload = json.dumps([order, ascending, _typed(value), trace_id], separators=(",", ":"))
    return PREFIX + base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode("ascii")


def decode_sort_cursor(cursor: str, order: str, ascending: bool) -> tuple[Any, str]:
    """(value, id) of a sorted list's cursor; InvalidCursorError if it is not one of
    this order and direction."""
    text = cursor.strip()
    if not text.startswith(PREFIX):
        raise InvalidCursorError(f"invalid cursor {_show(cursor)}: not of a sorted list")
    body = text[len(PREFIX):]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        got_order, got_asc, value, trace_id = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError, TypeError):
        raise InvalidCursorError(f"invalid cursor {_show(cursor)}: unreadable") from None
    if got_order != order or got_asc is not ascending or not isinstance(trace_id, str):
        raise InvalidCursorError(f"invalid cursor {_show(cursor)}: of another order")
    return _untyped(value), trace_id


def _typed(value: Any) -> Any:
    """A stored value as JSON that reads back as the same value and type."""
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, bytes):
        return {"hex": value.hex()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return {"num": str(value)}  # PostgreSQL's Decimal: exact as text


def _untyped(value: Any) -> Any:
    if isinstance(value, dict):
        if "dt" in value:
            return datetime.fromisoformat(value["dt"])
        if "hex" in value:
            return bytes.fromhex(value["hex"])
        if "num" in value:
            from decimal import Decimal

            return Decimal(value["num"])
    return value


def _show(cursor: str) -> str:
    short = cursor if len(cursor) <= 40 else cursor[:37] + "..."
    return repr(short)
