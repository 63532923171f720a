"""``open_trace_store(target)``: a file path is SQLite, a postgres URL is PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from tokentop.store.state import state_dir
from tokentop.store.traces.base import BaseTraceStore
from tokentop.store.traces.errors import TraceStoreError
from tokentop.store.traces.latency_cache import LatencyCache, cache_path
from tokentop.store.traces.protocol import TraceStore

PG_SCHEMES = ("postgresql://", "postgres://")


LatencyCacheMode = Literal["auto", "file", "memory", "off"]


async def open_trace_store(target: str, latency_cache: LatencyCacheMode = "auto",
                           cache_dir: Path | None = None) -> TraceStore:
    """Open the gateway trace store at ``target`` read-only; TraceStoreError if unusable.

    ``latency_cache``: where the per-day latency histograms live (store/traces/
    latency_cache.py): a file under ``cache_dir`` (default tokentop's XDG state
    directory), memory only, or off (every percentile query scans). ``auto`` is a
    file on SQLite and off on PostgreSQL: PostgreSQL aggregates with a hash and
    parallel workers, and has no cheap exact row count to check a cache against, so
    there the cache measured slower than the scan (tests/bench/README.md).
    """
    store = await _open(target)
    if latency_cache == "auto":
        latency_cache = "file" if store.backend == "sqlite" else "off"
    if latency_cache != "off":
        path = None
        if latency_cache == "file":
            path = cache_path(cache_dir or state_dir("tokentop"), store.identity())
        store.latency_cache = LatencyCache(store, path)
    return store


async def _open(target: str) -> BaseTraceStore:
    text = (target or "").strip()
    if not text:
        raise TraceStoreError("no trace store given (a gateway SQLite file or postgresql:// URL)")
    if text.lower().startswith(PG_SCHEMES):
        from tokentop.store.traces.postgres import PostgresTraceStore

        return await PostgresTraceStore.open(text)
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise TraceStoreError(
            f"unsupported trace store URL scheme {scheme!r} (use a file path or postgresql://)")
    from tokentop.store.traces.sqlite import SQLiteTraceStore

    return await SQLiteTraceStore.open(text)
