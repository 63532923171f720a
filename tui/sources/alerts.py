"""The alert checks of the dashboard: the ``[alerts]`` thresholds over the figures.

A source like the others, so it runs in a worker and the UI never waits: every
``check-seconds`` (and at start) it reads the figures the thresholds need (the usage
store in a thread, through a read-only connection of its own; the trace store through
its async driver; the event source's counters, which are plain integers), evaluates
them against the fired set it keeps (``store.alerts.rules.evaluate``: once per
crossing) and hands the new alerts to the app, which shows the banner, rings the bell
and starts the notifications.

A store that cannot be read is this source's ``error`` (one notification, until it
changes) and skips its figures for that look; the fired set is kept, so a store that
comes back does not ring again. The trace store is a connection of its own, opened at
the first look: the Traces screen's opens only when that screen is shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tokentop.store.alerts.figures import (
    EVENT_RULES,
    TRACE_RULES,
    USAGE_RULES,
    event_figures,
    read_store_figures,
    trace_figures,
)
from tokentop.store.alerts.rules import Alert, Figure, Fired, evaluate
from tokentop.tui.sources.base import AsyncSource, one_line

if TYPE_CHECKING:
    from tokentop.store.traces import TraceStore
    from tokentop.tui.app import TokentopApp

TICK = 0.25  # seconds between looks at the stop and wake events while waiting


class AlertsFeed(AsyncSource):
    name = "alerts"
    what = "alert checks"

    def __init__(self, host: TokentopApp) -> None:
        super().__init__(host)
        self.settings = host.alert_settings
        self.wanted = frozenset(self.settings.thresholds)
        self.fired: Fired = frozenset()
        self.checks = 0  # looks taken (tests wait on it)
        self._traces: TraceStore | None = None

    async def arun(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.wake_event.clear()
            await self.check()
            deadline = time.monotonic() + self.settings.check_seconds
            while (not stop.is_set() and not self.wake_event.is_set()
                   and time.monotonic() < deadline):
                await asyncio.sleep(TICK)

    async def check(self) -> list[Alert]:
        """One look: read, evaluate, hand the new alerts to the app."""
        now = datetime.fromtimestamp(self.host.clock(), UTC)
        figures: list[Figure] = []
        problems: list[str] = []
        path = self.host.usage_path
        if path is not None and self.wanted & USAGE_RULES:
            try:
                figures += await asyncio.to_thread(read_store_figures, path, now, self.wanted)
            except Exception as exc:  # a locked or broken store: said, checked again later
                problems.append(f"usage store: {one_line(exc)}")
        if self.host.traces_target is not None and self.wanted & TRACE_RULES:
            try:
                figures += await self._trace_figures(now)
            except Exception as exc:
                problems.append(f"trace store: {one_line(exc)}")
        events = self.host.sources.events
        if events is not None and self.wanted & EVENT_RULES:
            figures += event_figures(events.reads.stats, self.wanted)
        alerts, self.fired = evaluate(figures, self.settings.thresholds, self.fired, now)
        self.checks += 1
        error = "; ".join(problems) or None
        if error != self.error:
            self.error = error
            if error is not None:  # said once, until it changes (a path: never markup)
                self.host.notify(error, title="alert checks", severity="warning",
                                 timeout=20, markup=False)
        if alerts:
            self.host.alerts_fired(alerts)
        return alerts

    async def _trace_figures(self, now: datetime) -> list[Figure]:
        from tokentop.store.traces import open_trace_store
        from tokentop.tui.sources.traces import dashboard_scope

        if self._traces is None:
            target = self.host.traces_target
            assert target is not None
            # No latency cache: an hour's rows are a small scan, and the cache file is
            # the Traces screen's to keep (two writers of one file would race).
            self._traces = await open_trace_store(target, latency_cache="off")
        org, workspace = dashboard_scope()
        return await trace_figures(self._traces, now, self.wanted, org, workspace)

    async def aclose(self) -> None:
        store, self._traces = self._traces, None
        if store is not None:
            with contextlib.suppress(Exception):
                await store.close()
