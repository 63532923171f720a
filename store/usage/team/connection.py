"""One asyncpg connection to a team store, driven from synchronous code.

Ingest, reports and the dashboard's worker threads are synchronous; each operation runs
its coroutine on a loop of its own (in a helper thread when the caller's thread already
runs one). Every failure a user can cause (server down, login refused, no such
database, a malformed URL, a server error) becomes a one-line :class:`TeamStoreError`
naming the URL with its credentials masked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import asyncpg

from tokentop.store.redact import redact_text
from tokentop.store.usage.team import pgschema
from tokentop.store.usage.team.location import shown

CONNECT_TIMEOUT_S = 5.0
T = TypeVar("T")


class TeamStoreError(Exception):
    """A team store could not be reached or written; the message is one line."""


def describe(exc: BaseException, url: str) -> str:
    where = shown(url)
    if isinstance(exc, asyncpg.InvalidPasswordError
                  | asyncpg.InvalidAuthorizationSpecificationError):
        text = f"PostgreSQL refused the login: {where}"
    elif isinstance(exc, asyncpg.InvalidCatalogNameError):
        text = f"no such PostgreSQL database: {where}"
    elif isinstance(exc, TimeoutError | asyncio.TimeoutError):
        text = f"PostgreSQL did not answer within {CONNECT_TIMEOUT_S:g} s: {where}"
    elif isinstance(exc, OSError):
        text = f"cannot connect to PostgreSQL: {where} ({exc.strerror or exc})"
    elif isinstance(exc, asyncpg.InsufficientPrivilegeError):
        text = f"PostgreSQL denied access: {where} ({_first_line(exc)})"
    else:
        text = f"PostgreSQL error: {_first_line(exc)} ({where})"
    return redact_text(" ".join(text.split("\n")))


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def run(url: str, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Connect to ``url``, bring the schema up to date, ``await work(conn)``, close."""

    async def main() -> T:
        try:
            conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_S)
        except Exception as exc:  # asyncpg raises many kinds for a bad URL or server
            raise TeamStoreError(describe(exc, url)) from None
        try:
            await ensure_schema(conn)
            return await work(conn)
        except TeamStoreError:
            raise
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError,
                TimeoutError) as exc:
            raise TeamStoreError(describe(exc, url)) from None
        finally:
            try:
                await asyncio.wait_for(conn.close(), CONNECT_TIMEOUT_S)
            except Exception:  # a dead server: the socket goes with the loop
                conn.terminate()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


async def ensure_schema(conn: asyncpg.Connection) -> None:
    """Create the tables, or add the columns a newer SQLite schema has; nothing (and no
    lock) when the store is already current."""
    rows = await conn.fetch(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema()"
        " AND table_name IN ('usage_events', 'usage_raw_events', 'tokentop_meta',"
        " 'usage_limit_snapshots')")
    existing: dict[str, set[str]] = {}
    for r in rows:
        existing.setdefault(r["table_name"], set()).add(r["column_name"])
    if len(existing) == 4 and not pgschema.additions(existing):
        return
    async with conn.transaction():
        await conn.execute(f"SELECT pg_advisory_xact_lock({pgschema.DDL_LOCK})")
        for statement in pgschema.ddl():
            await conn.execute(statement)
        rows = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema()"
            " AND table_name IN ('usage_events', 'usage_raw_events')")
        existing = {}
        for r in rows:
            existing.setdefault(r["table_name"], set()).add(r["column_name"])
        for statement in pgschema.additions(existing):
            await conn.execute(statement)
