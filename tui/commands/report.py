"""``tokentop report daily|monthly|session|blocks``: ccusage-compatible headless reports.

A report first collects new log bytes into the store (as ``tokentop ingest`` does), then
answers from the store through a read-only connection, so it shows the message you sent
a second ago and never writes to a database it was only asked to read. No Textual here:
headless commands must start fast.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import click

from tokentop.store.usage import reports
from tokentop.store.usage.db import has_collector_offsets
from tokentop.store.usage.paths import default_db_path
from tokentop.store.usage.reports import ReportError, ReportOptions
from tokentop.store.usage.team.location import is_team_url
from tokentop.tui.commands.common import fail, rejected_text, store_open_failed, unreadable_lines
from tokentop.tui.commands.remote import collect_hosts, host_option, wanted_hosts

PROGRESS_AFTER_S = 0.5  # a pass shorter than this shows no progress line


def ingest_new(path: Path, hosts: tuple[str, ...] = ()) -> None:
    """Collect what the agents logged since the last run, here and on each box of
    ``--host`` (a box that cannot be reached: one line, the report goes on). A foreign
    database (openusage's telemetry.db) is only read, never collected into."""
    if path.exists() and not has_collector_offsets(path):
        return
    from tokentop.store.usage.collect import collect_once  # lazily: --help stays fast
    from tokentop.store.usage.db import UsageStore, UsageStoreError

    try:
        store = UsageStore.open(path)
    except UsageStoreError as e:
        store_open_failed(path, e)
    from tokentop.tui.commands.percent import Percent

    # a first run over a heavy user's logs takes a while: say how far it is (warm
    # passes end before the line would show)
    progress = (Percent("collecting", after=PROGRESS_AFTER_S, clear=True)
                if sys.stderr.isatty() else None)
    try:
        try:
            result = collect_once(store, progress=progress)
        finally:
            if progress is not None:
                progress.end()
        unreadable = unreadable_lines(result.as_dict())
        for line in unreadable[:3]:
            print(line, file=sys.stderr)
        if len(unreadable) > 3:
            print(f"tokentop: and {len(unreadable) - 3} more (see tokentop ingest)",
                  file=sys.stderr)
        if result.ingest.rejected:
            print(f"tokentop: not stored: {rejected_text(result.ingest.rejected)}"
                  " (see tokentop ingest)", file=sys.stderr)
        boxes = wanted_hosts(hosts)
        if boxes:
            collect_hosts(store, boxes)
    except UsageStoreError as e:
        fail(f"cannot collect into usage store {path}: {e}")
    finally:
        store.close()


def _options(since: str | None, until: str | None, timezone: str | None,
             source: str) -> ReportOptions:
    tz = reports.parse_tz(timezone)
    s = reports.parse_day(since) if since else None
    u = reports.parse_day(until) if until else None
    if s and u and s > u:
        raise ReportError("--since is after --until")
    if source not in reports.SOURCES:
        raise ReportError(f"unknown source {source!r}: use {reports.SOURCE_NAMES}")
    return ReportOptions(tz=tz, since=s, until=u, source=source)


def _common(f: Any) -> Any:
    options = [
        click.option("--json", "as_json", is_flag=True, help="Print ccusage-shaped JSON."),
        click.option("--since", metavar="YYYYMMDD", help="First day (inclusive, in --timezone)."),
        click.option("--until", metavar="YYYYMMDD", help="Last day (inclusive, in --timezone)."),
        click.option("--timezone", "-z", "timezone", metavar="TZ",
                     help="IANA timezone for grouping [default: the system's]."),
        click.option("--source", default="all", show_default=True, metavar="AGENT",
                     help=f"Which agent's usage: {reports.SOURCE_NAMES}."),
        click.option("--store", "store", metavar="PATH",
                     help="Usage database [default: $XDG_STATE_HOME/tokentop/usage.db]; "
                     "openusage's telemetry.db is read, never written; postgresql://... "
                     "a team store."),
        click.option("--no-ingest", is_flag=True, help="Do not collect new log lines first."),
        host_option,
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _run(kind: str, as_json: bool, since: str | None, until: str | None,
         timezone: str | None, source: str, store: str | None, no_ingest: bool,
         hosts: tuple[str, ...] = (), **extra: Any) -> None:
    try:
        opts = _options(since, until, timezone, source)
    except ReportError as e:
        fail(str(e))
    if is_team_url(store):
        assert store is not None
        from tokentop.tui.commands.team import team_replica

        path = team_replica(store, collect=not no_ingest)  # the read model runs on it
    else:
        path = Path(store).expanduser() if store else default_db_path()
        if not no_ingest:
            ingest_new(path, hosts)
    if not path.exists() and not store:
        doc = reports.REPORTS[kind](_empty_store(), opts, **extra)
    else:
        try:
            conn = reports.connect_read_only(path)
        except ReportError as e:
            fail(str(e))
        try:
            doc = reports.REPORTS[kind](conn, opts, **extra)
        except sqlite3.DatabaseError as e:
            fail(f"cannot read usage store {path}: {e}")
        finally:
            conn.close()
    if as_json:
        click.echo(pretty_json(doc))
    else:
        click.echo(_table(kind, doc))


def pretty_json(doc: Any) -> str:
    """The document indented, keys sorted. msgspec writes it: the standard library's
    indenting encoder is pure Python, ~30 ms for a month's daily report by model. Any
    text beyond ASCII goes through the standard library instead, which escapes it
    (``\\uXXXX``), so a bidi or other control character in a project path never reaches
    the terminal raw. The two differ only in how floats spell exponents (``1e-05``,
    ``1e-5``): the same JSON numbers."""
    import msgspec

    raw = msgspec.json.encode(doc, order="sorted")
    if raw.isascii():
        return msgspec.json.format(raw, indent=2).decode()
    return json.dumps(doc, indent=2, sort_keys=True)


def _empty_store() -> sqlite3.Connection:
    """No store yet (nothing collected): report over an empty in-memory one."""
    from tokentop.store.usage.schema import create

    conn = sqlite3.connect(":memory:")
    create(conn)
    return conn


def _table(kind: str, doc: dict[str, Any]) -> str:
    """A plain text table for people; scripts use --json."""
    if kind == "blocks":
        lines = [f"{'start (UTC)':<20} {'entries':>8} {'tokens':>14} {'cost $':>10}  models"]
        for b in doc["blocks"]:
            start = b["startTime"][:16].replace("T", " ")
            tag = " (gap)" if b["isGap"] else " (active)" if b["isActive"] else ""
            lines.append(f"{start:<20} {b['entries']:>8} {b['totalTokens']:>14,} "
                         f"{b['costUSD']:>10.2f}  {', '.join(b['models'])}{tag}")
        return "\n".join(lines)
    key, label = {"daily": ("daily", "date"), "monthly": ("monthly", "month"),
                  "session": ("sessions", "sessionId"), "hosts": ("hosts", "host")}[kind]
    head = (f"{label:<38} {'input':>12} {'output':>12} {'cache write':>12} "
            f"{'cache read':>14} {'total':>14} {'cost $':>10}")
    lines = [head]

    def row(name: str, r: dict[str, Any]) -> str:
        return (f"{name[:38]:<38} {r['inputTokens']:>12,} {r['outputTokens']:>12,} "
                f"{r['cacheCreationTokens']:>12,} {r['cacheReadTokens']:>14,} "
                f"{r['totalTokens']:>14,} {r['totalCost']:>10.2f}")

    for r in doc[key]:
        lines.append(row(str(r[label]), r))
    lines.append(row("total", doc["totals"]))
    unpriced = doc["totals"].get("unpricedModels")
    if unpriced:
        lines.append(f"unpriced (no cost counted): {', '.join(unpriced)}")
    return "\n".join(lines)


@click.group("report", context_settings={"help_option_names": ["-h", "--help"]})
def report() -> None:
    """Usage reports in ccusage's JSON shape (daily, monthly, session, blocks; and hosts)."""


@report.command("daily")
@_common
def daily_cmd(**kw: Any) -> None:
    """Usage per day."""
    _run("daily", **kw)


@report.command("monthly")
@_common
def monthly_cmd(**kw: Any) -> None:
    """Usage per month."""
    _run("monthly", **kw)


@report.command("session")
@_common
def session_cmd(**kw: Any) -> None:
    """Usage per agent session, most recent first."""
    _run("session", **kw)


@report.command("blocks")
@_common
@click.option("--active", "active_only", is_flag=True, help="Only the active block.")
def blocks_cmd(**kw: Any) -> None:
    """5-hour billing blocks, with burn rate and projection for the active one."""
    _run("blocks", **kw)


@report.command("hosts")
@_common
def hosts_cmd(**kw: Any) -> None:
    """Usage per box (--host; this machine is "local"), costliest first."""
    _run("hosts", **kw)
