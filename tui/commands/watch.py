"""``tokentop watch``: the dashboard's alert checks, headless, for cron and CI.

The thresholds are the config file's ``[alerts]`` table (``--set RULE=VALUE`` adds or
replaces one); the sources are the dashboard's own settings (``--store``, ``--traces``,
``--org``/``--workspace`` on the command line, their environment variables or the
config file) unless given here. One look by default; ``--every SECONDS`` keeps looking,
and says each crossing once (the same fired set the dashboard keeps).

Each alert is one JSON line on stdout (``Alert.to_json``). Exit status: 2 when a source
could not be read or a threshold is wrong (one line each on stderr, after any alert
found elsewhere), else 1 when an alert was printed, else 0.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tokentop.tui.commands.common import fail

if TYPE_CHECKING:
    from tokentop.store.alerts.rules import Figure
    from tokentop.tui.config.alerts import AlertSettings

NO_THRESHOLD = ("no alert thresholds: set them in the [alerts] table of {path} "
                "(tokentop config --init writes one) or with --set RULE=VALUE")


@dataclass(frozen=True)
class Sources:
    """Where the figures come from, resolved once from the options and the settings."""

    store: Path | None
    store_given: bool  # named (--store, the config file): must exist
    traces: str | None
    events: str | None
    org: str | None
    workspace: str | None
    latency_cache: str


class WatchError(Exception):
    """A source that could not be read this look: one line."""


def _thresholds(settings: AlertSettings, pairs: tuple[str, ...], path: Path) -> AlertSettings:
    """The file's table with ``--set RULE=VALUE`` over it, checked by the same rules."""
    import dataclasses

    from tokentop.tui.config.alerts import parse

    table: dict[str, object] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep:
            fail(f"--set {pair!r}: expected RULE=VALUE (e.g. cost-per-day=20)")
        try:
            table[key.strip()] = float(text)
        except ValueError:
            fail(f"--set {pair!r}: {text!r} is not a number")
    given, problems = parse(table, Path("--set"))
    for problem in problems:
        fail(problem)
    merged = {**settings.thresholds, **given.thresholds}
    return dataclasses.replace(settings, thresholds=merged)


def _usage(src: Sources, now: datetime, wanted: frozenset[str]) -> list[Figure]:
    import sqlite3

    from tokentop.store.alerts.figures import USAGE_RULES, read_store_figures
    from tokentop.store.usage.db import UsageStoreError

    if src.store is None or not wanted & USAGE_RULES:
        return []
    if src.store_given and not src.store.exists():
        raise WatchError(f"usage store not found: {src.store}")
    try:
        return read_store_figures(src.store, now, wanted)
    except (UsageStoreError, sqlite3.Error) as exc:
        from tokentop.store.sqlite_errors import describe

        why = describe(exc, src.store) if isinstance(exc, sqlite3.Error) else str(exc)
        raise WatchError(f"cannot read usage store {src.store}: {why}") from None


def _traces(src: Sources, now: datetime, wanted: frozenset[str]) -> list[Figure]:
    import asyncio

    from tokentop.store.alerts.figures import TRACE_RULES, trace_figures

    if src.traces is None or not wanted & TRACE_RULES:
        return []
    from tokentop.store.traces import open_trace_store

    async def read() -> list[Figure]:
        assert src.traces is not None
        store = await open_trace_store(src.traces,
                                       latency_cache=src.latency_cache)  # type: ignore[arg-type]
        try:
            return await trace_figures(store, now, wanted, src.org, src.workspace)
        finally:
            await store.close()

    try:
        return asyncio.run(read())
    except Exception as exc:
        from tokentop.store.redact import redact_text
        from tokentop.tui.sources.base import one_line

        raise WatchError(f"trace store {redact_text(src.traces)}: {one_line(exc)}") from None


def _events(src: Sources, wanted: frozenset[str]) -> list[Figure]:
    """The drop rate of a saved event file, read whole (a live stream's drops are the
    dashboard's: a look would have to wait for events)."""
    import threading

    from tokentop.store.alerts.figures import EVENT_RULES, event_figures

    if src.events is None or not wanted & EVENT_RULES:
        return []
    from tokentop.store.events.filesource import FileSource
    from tokentop.store.events.stream import EventStream
    source = FileSource(src.events, EventStream(1024), follow=False)
    source.run(threading.Event())
    if source.stats.last_error:
        raise WatchError(source.stats.last_error)
    return event_figures(source.stats, wanted)


@click.command("watch", context_settings={"help_option_names": ["-h", "--help"],
                                          "max_content_width": 100})
@click.option("--every", type=click.FloatRange(min=1.0), metavar="SECONDS",
              help="Look again every SECONDS until interrupted (or --count looks), "
              "printing each crossing once.")
@click.option("--count", type=click.IntRange(min=1), metavar="N",
              help="With --every: stop after N looks.")
@click.option("--at", "at", metavar="ISO8601",
              help="Check as of this time instead of now (a past day's spend).")
@click.option("--set", "pairs", multiple=True, metavar="RULE=VALUE",
              help="A threshold, over the config file's (e.g. --set cost-per-day=20).")
@click.option("--store", metavar="PATH", help="Usage store [default: the dashboard's].")
@click.option("--traces", metavar="PATH|URL",
              help="Gateway trace store [default: the dashboard's --traces, if any].")
@click.option("--events", metavar="FILE",
              help="A saved browser event stream (JSONL) whose drop rate to check "
              "[default: the dashboard's --events, when it is a file].")
@click.option("--no-ingest", is_flag=True, help="Do not collect new log lines first.")
@click.pass_context
def watch(ctx: click.Context, every: float | None, count: int | None, at: str | None,
          pairs: tuple[str, ...], store: str | None, traces: str | None,
          events: str | None, no_ingest: bool) -> None:
    """Check the [alerts] thresholds once and print one JSON line per alert.

    Exit status: 0 no alert, 1 alert(s), 2 an error (a store that cannot be read, a
    threshold that is wrong). For cron and CI; the dashboard rings the same alerts.
    """
    from tokentop.store.usage.paths import default_db_path
    from tokentop.tui.config.settings import ConfigError, resolve

    root = ctx.find_root()
    try:
        settings = resolve(root)
    except ConfigError as exc:
        fail(str(exc))
    for problem in settings.alert_warnings:  # a dropped threshold must not pass a check
        fail(problem)
    alerts = _thresholds(settings.alerts, pairs, settings.path)
    if not alerts.enabled:
        fail(NO_THRESHOLD.format(path=settings.path))
    if count is not None and every is None:
        fail("--count needs --every")
    now_at: datetime | None = None
    if at is not None:
        if every is not None:
            fail("--at checks one moment: it does not go with --every")
        from tokentop.store.timeparse import parse_instant

        try:
            now_at = parse_instant(at).astimezone(UTC)
        except ValueError:
            fail(f"--at is not an ISO 8601 time: {at!r}")
    opt = settings.options
    store_text = store or opt.get("store")
    from tokentop.store.usage.team.location import is_team_url, shown

    if is_team_url(str(store_text) if store_text else None):
        fail(f"watch reads a SQLite usage store, not the team store {shown(str(store_text))}")
    store_path = Path(str(store_text)).expanduser() if store_text else default_db_path()
    events_target = events or opt.get("events")
    if events_target is not None and str(events_target).startswith(("http://", "https://")):
        if events is not None:
            fail("--events: watch reads a saved event file; a live stream's drops are "
                 "the dashboard's")
        events_target = None  # the dashboard's stream: nothing to look at here
    src = Sources(store=store_path, store_given=bool(store_text),
                  traces=_text(traces or opt.get("traces")), events=_text(events_target),
                  org=_text(opt.get("org_id")), workspace=_text(opt.get("workspace_id")),
                  latency_cache=str(opt.get("latency_cache") or "auto"))
    if store_text and not store_path.exists():  # a typo must not create a store there
        fail(f"usage store not found: {store_path}")
    ingest = not no_ingest and now_at is None
    sys.exit(_loop(src, alerts, every, count, now_at, ingest))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _loop(src: Sources, settings: AlertSettings, every: float | None, count: int | None,
          at: datetime | None, ingest: bool) -> int:
    from tokentop.store.alerts.rules import Fired, evaluate

    wanted = frozenset(settings.thresholds)
    fired: Fired = frozenset()
    alerted = errored = False
    looks = 0
    try:
        while True:
            if ingest and src.store is not None:
                from tokentop.store.alerts.figures import USAGE_RULES
                from tokentop.tui.commands.report import ingest_new

                if wanted & USAGE_RULES:
                    ingest_new(src.store)
            now = at or datetime.now(UTC)
            figures: list[Figure] = []
            for read in (partial(_usage, src, now, wanted), partial(_traces, src, now, wanted),
                         partial(_events, src, wanted)):
                try:
                    figures += read()
                except WatchError as exc:
                    errored = True
                    click.echo(f"tokentop: {exc}", err=True)
            alerts, fired = evaluate(figures, settings.thresholds, fired, now)
            for alert in alerts:
                click.echo(json.dumps(alert.to_json(), separators=(",", ":")))
            alerted = alerted or bool(alerts)
            sys.stdout.flush()
            looks += 1
            if every is None or (count is not None and looks >= count):
                break
            time.sleep(every)  # the loop's pace, not a synchronisation
    except KeyboardInterrupt:
        pass
    return 2 if errored else 1 if alerted else 0
