"""The screen registry, and what every screen may ask of the app that hosts it.

Screens are Textual *modes*: ``tab`` cycles through ``screen_specs()`` in order (and
digits will pick one directly once there are several). Adding a screen is one entry
here; the app registers them all at start-up.

Screens do not poll files or start workers: the app owns the metrics worker and
sends ``SourceChanged`` (at most a few per second) when the store moved; a screen
then asks the store for what it shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from textual.message import Message

if TYPE_CHECKING:
    from pathlib import Path

    from textual.screen import Screen

    from store.metrics import MetricsSource
    from store.usage.read import UsageView


class SourceChanged(Message):
    """The store changed (or the clock crossed a minute): redraw from it."""


class UsageLoaded(Message):
    """One read of the usage store (``view``), or why it could not be read (``error``).

    The app's usage worker posts one per change: everything a Usage screen shows for
    its window, batched, never a message per event.
    """

    def __init__(self, view: UsageView | None, error: str | None) -> None:
        super().__init__()
        self.view = view
        self.error = error


class DashboardHost(Protocol):
    """The part of the app a screen relies on (the app implements it)."""

    source: MetricsSource
    clock: Callable[[], float]
    paused: bool
    follow: bool  # False in tests: replay only, nothing is watched
    poll: bool  # watch by polling (--poll) rather than filesystem events
    problem: str | None
    usage_path: Path | None  # the usage store read (None: no usage store)
    usage_collect: bool  # whether the dashboard collects agent logs into it
    usage_view: UsageLoaded | None  # the latest read of it

    def now_minute(self) -> int: ...
    def request_usage(self, window: str | None = None) -> None: ...


@dataclass(frozen=True)
class ScreenSpec:
    """One top-level screen: its mode name, its tab title, and how to build it."""

    mode: str
    title: str
    factory: Callable[[], Screen[None]]


def screen_specs() -> tuple[ScreenSpec, ...]:
    """Every top-level screen, in ``tab`` order (imported lazily: screens import us)."""
    from tui.screens.overview import OverviewScreen
    from tui.screens.usage import UsageScreen

    return (ScreenSpec("overview", "Overview", OverviewScreen),
            ScreenSpec("usage", "Usage", UsageScreen))
