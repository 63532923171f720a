"""What a trace backend provides: how to run a query and how it writes times and days.

Why a module of its own: the shared queries (store/traces/base.py) and the latency
cache (store/traces/latency_cache.py) both read through these few methods, and the
store owns its cache. With the backend's half here, the cache depends on this class
only and the store on both, so neither of the two imports the other's module.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tokentop.store.traces.timefmt import Instant


class TraceBackend(abc.ABC):
    """One database's dialect and connection; SQLite and PostgreSQL implement it."""

    @abc.abstractmethod
    async def _fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Sequence[Any]]:
        """Run ``sql`` (``?`` placeholders) and return all rows; TraceStoreError."""

    @abc.abstractmethod
    def _hour_sql(self) -> str:
        """SQL giving the UTC hour of ``timestamp`` (text or timestamp)."""

    @abc.abstractmethod
    def _bind_time(self, column: str, when: datetime | Instant) -> Any:
        """``when`` as a value comparable with ``column`` the way the column sorts,
        written as the gateway binds it (all nine digits on SQLite)."""

    @abc.abstractmethod
    async def _cursor_bound(self, created_at: Instant, trace_id: str) -> Any:
        """The created_at value to compare with for the row after a cursor."""

    @abc.abstractmethod
    def _time(self, value: Any) -> datetime | None:
        """A fetched time column as an aware UTC datetime."""

    @abc.abstractmethod
    def _instant(self, value: Any) -> Instant | None:
        """A fetched time column with the nanoseconds it holds (for the cursor)."""

    @abc.abstractmethod
    def _select(self, field: str) -> str:
        """The select expression of one column (JSONB as text on PostgreSQL)."""

    @abc.abstractmethod
    def _day_sql(self) -> str:
        """SQL giving the day key of ``timestamp`` (text that sorts like the column)."""

    @abc.abstractmethod
    def _day_key(self, when: datetime) -> str:
        """The day key of a bound, comparable with ``_day_sql``'s keys."""

    @abc.abstractmethod
    def _day_range(self, key: str) -> tuple[Any, Any]:
        """Bounds (lo <= timestamp < hi) holding exactly the rows of day ``key``."""

    @abc.abstractmethod
    def _raw_key(self, raw: Any) -> Any:
        """A fetched created_at as a Python key ordered the way the database orders it."""

    @abc.abstractmethod
    def identity(self) -> str:
        """What names this store across runs (a path, a URL without its password)."""

    @abc.abstractmethod
    async def incarnation(self) -> str:
        """Changes when the table is replaced wholesale (a new file, a TRUNCATE)."""

    @abc.abstractmethod
    async def _close(self) -> None: ...

    async def _fetch_grouped(self, select: str, where: str, args: Sequence[Any],
                             group_by: str) -> list[Sequence[Any]]:
        """A whole-table GROUP BY. A backend may split it into parts (SQLite scans
        rowid ranges in parallel), so a group can come back more than once: sum."""
        return await self._fetch(
            f"SELECT {select} FROM traces WHERE {where} GROUP BY {group_by}", args)

    @staticmethod
    def _group_sql(column: str | None) -> str:
        """The SQL of a grouping column, ``''`` for no grouping and for NULL."""
        return "''" if column is None else f"COALESCE({column}, '')"
