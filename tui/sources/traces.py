"""The gateway's trace store (``--traces``: a SQLite path or a postgresql:// URL).

Opened the first time the Traces screen is shown, through the store's async driver
(aiosqlite, asyncpg), so it runs on the event loop rather than in a thread. The
screen queries it in its own async workers (a page, the analytics, a detail);
this source keeps the one connection and polls the store's change token
(``PRAGMA data_version``, or the newest trace on PostgreSQL) every few seconds while
live, saying ``changed()`` when traces arrived. The connection is closed when the
app stops: the driver's thread would otherwise keep the process alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import TYPE_CHECKING

from tokentop.tui.sources.base import AsyncSource

if TYPE_CHECKING:
    from tokentop.store.traces import TraceStore
    from tokentop.tui.app import TokentopApp

REFRESH_SECONDS = 3.0  # how often the change token is read


class TracesFeed(AsyncSource):
    name = "traces"
    what = "reading traces"

    def __init__(self, host: TokentopApp) -> None:
        super().__init__(host)
        self.store: TraceStore | None = None
        self.version: str | None = None  # the change token at the last poll
        self._open_task: asyncio.Future[TraceStore] | None = None

    async def open(self) -> TraceStore:
        """The store, opened once; the opening is shielded from a cancelled worker so a
        half-opened connection is never leaked. A failed opening is forgotten, so the
        next read tries again (a store that appears later, a server that comes back)."""
        from tokentop.store.traces import open_trace_store

        if self._open_task is None:
            target = self.host.traces_target
            assert target is not None
            self._open_task = asyncio.ensure_future(open_trace_store(
                target, latency_cache=self.host.latency_cache))  # type: ignore[arg-type]
        task = self._open_task
        try:
            self.store = await asyncio.shield(task)
        except asyncio.CancelledError:
            raise
        except Exception:
            if self._open_task is task:
                self._open_task = None
            raise
        return self.store

    async def arun(self, stop: threading.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(REFRESH_SECONDS)
            if self.store is None or self.host.paused:
                continue  # the first page is still being read (it reports failures)
            try:
                version = await self.store.version()
            except Exception:  # the next page read reports it
                continue
            if version != self.version:
                self.version = version
                self.changed()

    async def aclose(self) -> None:
        task, self._open_task = self._open_task, None
        if task is None:
            return
        with contextlib.suppress(Exception, asyncio.CancelledError):
            store = await task
            await store.close()


# The dashboard's tenant scope (``tokentop --org/--workspace``): set once by the CLI
# before the app starts, read by the Traces screen. None: every tenant.
_scope: tuple[str | None, str | None] = (None, None)


def set_dashboard_scope(org_id: str | None, workspace_id: str | None) -> None:
    """Scope the Traces screen to one org and/or workspace (the gateway's org_id and
    workspace_id, as its API scopes a caller: internal/api/tenant_scope.go)."""
    global _scope
    _scope = (org_id or None, workspace_id or None)


def dashboard_scope() -> tuple[str | None, str | None]:
    return _scope
