"""``open_trace_store(target)``: a file path is SQLite, a postgres URL is PostgreSQL."""

from __future__ import annotations

from store.traces.errors import TraceStoreError
from store.traces.protocol import TraceStore

PG_SCHEMES = ("postgresql://", "postgres://")


async def open_trace_store(target: str) -> TraceStore:
    """Open the gateway trace store at ``target`` read-only; TraceStoreError if unusable."""
    text = (target or "").strip()
    if not text:
        raise TraceStoreError("no trace store given (a gateway SQLite file or postgresql:// URL)")
    if text.lower().startswith(PG_SCHEMES):
        from store.traces.postgres import PostgresTraceStore

        return await PostgresTraceStore.open(text)
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise TraceStoreError(
            f"unsupported trace store URL scheme {scheme!r} (use a file path or postgresql://)")
    from store.traces.sqlite import SQLiteTraceStore

    return await SQLiteTraceStore.open(text)
