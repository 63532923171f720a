"""The keyset cursor of the trace list, byte-compatible with the gateway's.

As ``encodeTraceCursor``/``decodeTraceCursor`` in ongoingai/gateway
internal/trace/sqlite.go (commit f56ac42): base64url without padding of
``created_at`` (``time.RFC3339Nano`` in UTC, all nine digits of nanoseconds the row
holds) + ``|`` + ``id`` of the last row of a page. The next page is the rows strictly
after that (created_at, id) in ``created_at DESC, id DESC`` order, so a page at any
depth costs one index seek: there is never an OFFSET. The time is an
:class:`~tokentop.store.traces.timefmt.Instant`: a ``datetime`` would drop the last
three digits, and the bound would then fall between two traces of one microsecond.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from tokentop.store.traces.errors import InvalidCursorError
from tokentop.store.traces.timefmt import Instant, parse_rfc3339, rfc3339_nano


def encode_cursor(created_at: Instant | datetime, trace_id: str) -> str:
    raw = f"{rfc3339_nano(created_at)}|{trace_id}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> tuple[Instant, str]:
    """(created_at, id) of a cursor; InvalidCursorError with a one-line reason."""
    text = cursor.strip()
    if not text or any(c in text for c in "=+/") or len(text) % 4 == 1:
        raise InvalidCursorError(f"invalid cursor {_show(cursor)}: not base64url")
    try:
        payload = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursorError(f"invalid cursor {_show(cursor)}: not base64url") from None
    when, sep, trace_id = payload.partition("|")
    if not sep or not trace_id.strip():
        raise InvalidCursorError(f"invalid cursor {_show(cursor)}: missing id")
    try:
        created_at = parse_rfc3339(when.strip())
    except ValueError:
        raise InvalidCursorError(f"invalid cursor {_show(cursor)}: bad created_at") from None
    return created_at, trace_id.strip()


def _show(cursor: str) -> str:
    """The cursor for an error line: quoted, control characters escaped, shortened."""
    short = cursor if len(cursor) <= 40 else cursor[:37] + "..."
    return repr(short)
