"""The screen registry, and what every screen may ask of the app that hosts it.

Screens are Textual *modes*: ``tab`` cycles through ``screen_specs()`` in order (and
the digits ``1``, ``2``, ``3`` pick one directly). Adding a screen is one entry
here; the app registers them all at start-up.

Screens do not read files or start readers: every source runs in the app
(``tui/sources``). The metrics source sends ``SourceChanged`` (at most a few per
second) when the store moved, and a screen then asks the store for what it shows;
a screen that needs another source gets it with ``self.host.sources.use(name, self)``
(started on first use) and hears of new data through that source's messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from textual.message import Message

if TYPE_CHECKING:
    from pathlib import Path

    from textual.screen import Screen

    from tokentop.store.metrics import MetricsSource
    from tokentop.store.usage.read import UsageView
    from tokentop.tui.sources import Sources


class SourceChanged(Message):
    """The store changed (or the clock crossed a minute): redraw from it."""


class UsageLoaded(Message):
    """One read of the usage store (``view``), or why it could not be read (``error``).

    The usage source posts the latest per batch: everything a Usage screen shows for
    its window, batched, never a message per event.
    """

    def __init__(self, view: UsageView | None, error: str | None) -> None:
        super().__init__()
        self.view = view
        self.error = error


class UsageSeriesLoaded(Message):
    """The usage store's per-bucket tokens and cost over the Overview's range.

    Read by the usage source's worker (never on the event loop) for the range the
    Overview asked for, and posted whole: one message per change of the store, the
    range or the minute. ``minutes`` are bucket starts (epoch minutes), ``interval``
    minutes apart; ``cost`` is in micro-USD, models without a price adding nothing.
    """

    def __init__(self, range_name: str, interval: int, minutes: list[int],
                 tokens: list[int], cost: list[int], ending: int | None = None) -> None:
        super().__init__()
        self.range_name = range_name
        self.ending = ending  # scrolled back: the window's last minute (None: now)
        self.interval = interval
        self.minutes = minutes
        self.tokens = tokens
        self.cost = cost

    def copy(self) -> UsageSeriesLoaded:
        """A fresh message with the same read: a message is posted to one screen only."""
        return UsageSeriesLoaded(self.range_name, self.interval, self.minutes, self.tokens,
                                 self.cost, self.ending)


class DashboardHost(Protocol):
    """The part of the app a screen relies on (the app implements it)."""

    source: MetricsSource
    sources: Sources  # every other source, by name (``sources.use(name, screen)``)
    clock: Callable[[], float]
    paused: bool
    follow: bool  # False in tests: replay only, nothing is watched
    poll: bool  # watch by polling (--poll) rather than filesystem events
    usage_path: Path | None  # the usage store read (None: no usage store)
    usage_collect: bool  # whether the dashboard collects agent logs into it
    usage_team: str | None  # --store postgresql://...: usage_path is its local replica
    events_target: str | None  # --events as given (None: no event stream)
    traces_target: str | None  # --traces: a SQLite path or postgresql:// URL (None: none)
    latency_cache: str  # --latency-cache: auto|file|memory|off (store/traces/latency_cache.py)
    diagnostics_target: str | None  # --diagnostics: a gateway URL or a JSON file
    access_path: str | None  # --access: an airstore access-event JSONL file

    def now_minute(self) -> int: ...


@dataclass(frozen=True)
class ScreenSpec:
    """One top-level screen: its mode name, its tab title, and how to build it."""

    mode: str
    title: str
    factory: Callable[[], Screen[None]]


def screen_specs() -> tuple[ScreenSpec, ...]:
    """Every top-level screen, in ``tab`` order (imported lazily: screens import us)."""
    from tokentop.tui.screens.access import AccessScreen
    from tokentop.tui.screens.events import EventsScreen
    from tokentop.tui.screens.files import FilesScreen
    from tokentop.tui.screens.logs import LogsScreen
    from tokentop.tui.screens.overview import OverviewScreen
    from tokentop.tui.screens.spans import SpansScreen
    from tokentop.tui.screens.traces import TracesScreen
    from tokentop.tui.screens.usage import UsageScreen

    return (ScreenSpec("overview", "Overview", OverviewScreen),
            ScreenSpec("usage", "Usage", UsageScreen),
            ScreenSpec("events", "Events", EventsScreen),
            ScreenSpec("traces", "Traces", TracesScreen),
            ScreenSpec("access", "Access", AccessScreen),
            ScreenSpec("files", "Files", FilesScreen),
            ScreenSpec("logs", "Logs", LogsScreen),
            ScreenSpec("spans", "Spans", SpansScreen))
