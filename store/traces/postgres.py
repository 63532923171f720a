"""The gateway's PostgreSQL trace store, read with asyncpg in read-only transactions.

asyncpg rather than psycopg 3: it is asyncio-native (the Traces screen runs queries in
async workers), has no libpq dependency (one wheel, nothing from apt for users), is
the faster of the two at decoding rows, and its ``copy_records_to_table`` gives the
tests and the benchmark a binary COPY for bulk loading.

Sessions default to read-only (``default_transaction_read_only``): tokentop never
writes to the gateway's database. A small pool lets the screen's workers run
queries side by side (one asyncpg connection runs one query at a time).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from tokentop.store.traces.base import JSON_FIELDS, BaseTraceStore, check_columns
from tokentop.store.traces.errors import TraceStoreError
from tokentop.store.traces.timefmt import Instant, to_utc

CONNECT_TIMEOUT_S = 5.0
POOL_MAX = 4
HOUR_SQL = "date_trunc('hour', timestamp AT TIME ZONE 'UTC')"
DAY_SQL = "COALESCE(to_char(timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD'), '')"
_PLACEHOLDER = re.compile(r"\?")


def masked(dsn: str) -> str:
    """The URL with its password replaced by ***, for messages and status lines."""
    try:
        parts = urlsplit(dsn)
    except ValueError:
        return "postgresql://(unparseable URL)"
    if parts.password is None:
        return dsn
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2, ...`` (our SQL has no other ``?``)."""
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda _m: f"${next(counter)}", sql)


def _describe(exc: BaseException, where: str) -> str:
    if isinstance(exc, asyncpg.InvalidPasswordError
                  | asyncpg.InvalidAuthorizationSpecificationError):
        return f"PostgreSQL refused the login: {where} ({exc})"
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return f"no such PostgreSQL database: {where}"
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return f"PostgreSQL did not answer within {CONNECT_TIMEOUT_S:g} s: {where}"
    if isinstance(exc, OSError):
        return f"cannot connect to PostgreSQL: {where} ({exc.strerror or exc})"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"PostgreSQL error: {text} ({where})"


class PostgresTraceStore(BaseTraceStore):
    backend = "postgresql"

    def __init__(self, dsn: str, pool: asyncpg.Pool) -> None:
        self.display = masked(dsn)
        self._pool = pool

    @classmethod
    async def open(cls, dsn: str) -> PostgresTraceStore:
        where = masked(dsn)
        try:
            pool = await asyncpg.create_pool(
                dsn, min_size=1, max_size=POOL_MAX, timeout=CONNECT_TIMEOUT_S,
                server_settings={"default_transaction_read_only": "on",
                                 "application_name": "tokentop"})
        except (OSError, TimeoutError, asyncpg.PostgresError,
                asyncpg.InterfaceError) as e:
            raise TraceStoreError(_describe(e, where)) from None
        except ValueError as e:  # a malformed DSN
            raise TraceStoreError(f"invalid PostgreSQL URL {where}: {e}") from None
        except Exception as e:  # whatever else a user's URL can provoke (port 99999...)
            raise TraceStoreError(
                f"cannot connect to PostgreSQL: {where} ({type(e).__name__}: {e})") from None
        store = cls(dsn, pool)
        try:
            rows = await store._fetch(
                "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass('traces') "
                "AND attnum > 0 AND NOT attisdropped")
            check_columns({r[0] for r in rows}, where)
        except BaseException:
            await pool.close()
            raise
        return store

    async def _close(self) -> None:
        await self._pool.close()

    def identity(self) -> str:
        return f"postgresql:{self.display}"

    async def incarnation(self) -> str:
        """The table's oid and file node: TRUNCATE, a restore or VACUUM FULL change it."""
        rows = await self._fetch("SELECT oid, relfilenode FROM pg_class "
                                 "WHERE oid = to_regclass('traces')")
        return "" if not rows else f"{rows[0][0]}:{rows[0][1]}"

    async def version(self) -> str:
        """The newest (created_at, id): one index seek; the gateway only inserts."""
        rows = await self._fetch(
            "SELECT created_at, id FROM traces ORDER BY created_at DESC, id DESC LIMIT 1")
        return "" if not rows else f"{rows[0][0].isoformat()}|{rows[0][1]}"

    async def _fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Sequence[Any]]:
        try:
            return list(await self._pool.fetch(numbered(sql), *args))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
            raise TraceStoreError(_describe(e, self.display)) from None

    def _hour_sql(self) -> str:
        return HOUR_SQL

    def _bind_time(self, column: str, when: datetime | Instant) -> Any:
        """TIMESTAMPTZ holds microseconds; the gateway's pgx truncates a time.Time's
        nanoseconds the same way (pgtype: Nanosecond()/1000)."""
        return Instant.of(when).to_datetime()

    def _day_sql(self) -> str:
        return DAY_SQL

    def _day_key(self, when: datetime) -> str:
        return to_utc(when).strftime("%Y-%m-%d")

    def _day_range(self, key: str) -> tuple[Any, Any]:
        start = datetime.strptime(key, "%Y-%m-%d").replace(tzinfo=UTC)
        return start, start + timedelta(days=1)

    def _raw_key(self, raw: Any) -> Any:
        return (0, 0) if raw is None else (1, to_utc(raw))

    async def _cursor_bound(self, created_at: Instant, trace_id: str) -> Any:
        return created_at.to_datetime()

    def _time(self, value: Any) -> datetime | None:
        return None if value is None else to_utc(value)

    def _instant(self, value: Any) -> Instant | None:
        return None if value is None else Instant.of(value)

    def _select(self, field: str) -> str:
        return f"{field}::text" if field in JSON_FIELDS else field
