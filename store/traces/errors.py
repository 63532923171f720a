"""The one exception a user can cause in the trace store, and its refinements.

Every problem a user can cause (missing file, unreachable server, wrong schema, bad
cursor, bad group or bucket) is a :class:`TraceStoreError` whose ``str`` is one
line, fit for a status line or ``tokentop: ...`` on stderr.
"""

from __future__ import annotations


class TraceStoreError(Exception):
    """A user-facing, one-line problem with a trace store or a query of it."""


class InvalidCursorError(TraceStoreError):
    """The cursor is not one this store handed out (not base64url, no id, bad time)."""


class TraceNotFoundError(TraceStoreError):
    """``get_trace`` found no trace with that id."""
