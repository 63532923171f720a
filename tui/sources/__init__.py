"""Every source the dashboard runs, and the one way a screen gets one.

Adding a source is one module (a ``Source`` subclass, see ``base.py``) and one line in
``source_specs``. A source is *wanted* when its command-line option was given, and it
starts either with the app (*eager*: what must not miss data before a screen is shown,
and what the Overview shows at once) or the first time a screen asks for it with
``app.sources.use(name, screen)`` (the Traces, Access, Files, Logs and Spans screens:
nothing is opened or scanned that nobody looks at). Every started source is stopped
when the app stops.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tokentop.tui.sources.base import Source, SourceUpdated

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

    from tokentop.tui.app import TokentopApp
    from tokentop.tui.sources.events import EventsFeed
    from tokentop.tui.sources.metrics import MetricsFeed
    from tokentop.tui.sources.usage import UsageFeed

__all__ = ["Source", "SourceSpec", "SourceUpdated", "Sources", "source_specs"]


@dataclass(frozen=True)
class SourceSpec:
    name: str
    build: Callable[[TokentopApp], Source]
    wanted: Callable[[TokentopApp], bool]  # configured at all (e.g. --access given)
    eager: bool  # started with the app; else on first use


def _logs(app: TokentopApp) -> Source:
    from tokentop.store.gridctl.logs import LogRecord, parse_lines
    from tokentop.tui.sources.gridlog import GridLogFeed

    def time_of(record: LogRecord) -> int:
        return record.ns

    return GridLogFeed(app, "logs", "logs", parse_lines, time_of)


def _spans(app: TokentopApp) -> Source:
    from tokentop.store.gridctl.spans import Span, parse_lines
    from tokentop.tui.sources.gridlog import GridLogFeed

    def time_of(record: Span) -> int:
        return record.start_ns

    return GridLogFeed(app, "spans", "traces", parse_lines, time_of)


def _events(app: TokentopApp) -> Source:
    from tokentop.tui.sources.events import EventsFeed

    assert app.events_target is not None
    return EventsFeed(app, app.events_target, **app.events_options)


def _build(module: str, cls: str) -> Callable[[TokentopApp], Source]:
    """A factory importing its module on first use (most runs use few sources)."""

    def build(app: TokentopApp) -> Source:
        import importlib

        factory: Any = getattr(importlib.import_module(f"tokentop.tui.sources.{module}"), cls)
        return factory(app)  # type: ignore[no-any-return]

    return build


def _always(_: TokentopApp) -> bool:
    return True


def source_specs() -> tuple[SourceSpec, ...]:
    return (
        SourceSpec("metrics", _build("metrics", "MetricsFeed"), _always, eager=True),
        SourceSpec("usage", _build("usage", "UsageFeed"),
                   lambda app: app.usage_path is not None, eager=True),
        SourceSpec("collect", _build("collect", "CollectFeed"),
                   lambda app: app.usage_path is not None and app.usage_collect, eager=True),
        SourceSpec("team", _build("team", "TeamFeed"),
                   lambda app: getattr(app, "usage_team", None) is not None, eager=True),
        SourceSpec("remote", _build("remote", "RemoteFeed"),
                   lambda app: (app.usage_path is not None and app.usage_collect
                                and bool(app.remote_hosts)), eager=True),
        SourceSpec("events", _events, lambda app: app.events_target is not None, eager=True),
        SourceSpec("alerts", _build("alerts", "AlertsFeed"),
                   lambda app: app.alert_settings.enabled, eager=True),
        SourceSpec("traces", _build("traces", "TracesFeed"),
                   lambda app: app.traces_target is not None, eager=False),
        SourceSpec("access", _build("access", "AccessFeed"),
                   lambda app: app.access_path is not None, eager=False),
        SourceSpec("files", _build("files", "FilesFeed"), _always, eager=False),
        SourceSpec("logs", _logs, _always, eager=False),
        SourceSpec("spans", _spans, _always, eager=False),
    )


class Sources:
    """The app's sources by name: built when first asked for, started once."""

    def __init__(self, app: TokentopApp) -> None:
        self.app = app
        self.specs = {spec.name: spec for spec in source_specs()}
        self.built: dict[str, Source] = {}
        for spec in self.specs.values():
            if spec.eager:
                self.get(spec.name)  # built now: screens may read them before they start

    def get(self, name: str) -> Source | None:
        """The source (built, not started), or None when it is not configured."""
        source = self.built.get(name)
        if source is None:
            spec = self.specs[name]
            if not spec.wanted(self.app):
                return None
            source = self.built[name] = spec.build(self.app)
        return source

    def use(self, name: str, subscriber: MessagePump | None = None) -> Source | None:
        """The source, started if it was not; ``subscriber`` gets its updates."""
        source = self.get(name)
        if source is not None:
            if subscriber is not None:
                source.subscribe(subscriber)
            source.start()
        return source

    def start_eager(self) -> None:
        for spec in self.specs.values():
            if spec.eager:
                self.use(spec.name)

    def stop(self) -> None:
        """Ask every source to stop (each checks at least once a second)."""
        for source in self.built.values():
            source.stop()

    async def aclose(self) -> None:
        self.stop()
        for source in self.built.values():
            await source.aclose()

    # -- the ones the app itself reads --------------------------------------------------
    @property
    def metrics(self) -> MetricsFeed:
        return self.built["metrics"]  # type: ignore[return-value]

    @property
    def usage(self) -> UsageFeed | None:
        return self.built.get("usage")  # type: ignore[return-value]

    @property
    def events(self) -> EventsFeed | None:
        return self.built.get("events")  # type: ignore[return-value]
