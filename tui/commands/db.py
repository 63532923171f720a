"""``tokentop db check|prune|vacuum``: look after the usage store.

``check`` opens the database read-only (it works on openusage's ``telemetry.db`` while
openusage runs) and reports integrity, schema compatibility, row counts, sizes and the
WAL; ``prune`` applies retention; ``vacuum`` compacts the file. A missing, corrupt,
locked or foreign file is one line on stderr and exit status 2.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import click

from tokentop.store.sqlite_errors import describe
from tokentop.store.usage.db import UsageStore, UsageStoreError
from tokentop.store.usage.paths import default_db_path

CONTEXT = {"help_option_names": ["-h", "--help"]}

# The columns tokentop reads; a database missing one is not a usage store.
REQUIRED = {
    "usage_events": ("event_id", "occurred_at", "provider_id", "agent_name", "event_type",
                     "input_tokens", "output_tokens", "cache_read_tokens",
                     "cache_write_tokens", "cost_usd", "dedup_key", "raw_event_id"),
    "usage_raw_events": ("raw_event_id", "ingested_at", "source_system", "source_channel",
                         "source_payload"),
}


def _fail(message: str) -> None:
    message = " ".join(message.split())  # one line, whatever SQLite said
    click.echo(f"tokentop: {message[:300]}", err=True)
    sys.exit(2)


def _open(ctx: click.Context, read_only: bool) -> UsageStore:
    path, timeout = ctx.obj
    try:
        if read_only:
            return UsageStore.open(path, read_only=True, busy_timeout_ms=timeout)
        if not path.is_file():
            _fail(f"usage database not found: {path}")
        return UsageStore.open(path, busy_timeout_ms=timeout)
    except UsageStoreError as exc:
        _fail(str(exc))
    raise AssertionError("unreachable")


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


@click.group("db", context_settings=CONTEXT)
@click.option("--store", "store_path", metavar="PATH",
              help="Usage database [default: $XDG_STATE_HOME/tokentop/usage.db].")
@click.option("--busy-timeout", type=int, default=5000, hidden=True)
@click.pass_context
def db(ctx: click.Context, store_path: str | None, busy_timeout: int) -> None:
    """Check, prune or compact the usage store."""
    from tokentop.store.usage.team.location import is_team_url, shown

    if is_team_url(store_path):
        _fail(f"db checks a SQLite usage store; the team store {shown(str(store_path))}"
             " is kept by its PostgreSQL server")
    path = Path(store_path).expanduser() if store_path else default_db_path()
    ctx.obj = (path, busy_timeout)


@db.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Integrity, schema compatibility, counts, sizes and WAL of the store."""
    store = _open(ctx, read_only=True)
    path = store.path
    try:
        with store:
            conn = store.conn
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check(20)")]
            if problems != ["ok"]:
                detail = [x for x in problems[0].splitlines() if not x.startswith("***")]
                _fail(f"database is corrupt: {path} ({(detail or problems)[0]})")
            tables = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            for table, columns in REQUIRED.items():
                if table not in tables:
                    _fail(f"not a usage database (no table {table}): {path}")
                have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
                missing = [c for c in columns if c not in have]
                if missing:
                    _fail(f"incompatible schema: {table} lacks {', '.join(missing)}: {path}")
            counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                      for t in ("usage_events", "usage_raw_events")}
            offsets = (conn.execute("SELECT count(*) FROM collector_offsets").fetchone()[0]
                       if "collector_offsets" in tables else None)
            first, last = conn.execute(
                "SELECT min(occurred_at), max(occurred_at) FROM usage_events").fetchone()
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
            free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    except sqlite3.Error as exc:
        _fail(describe(exc, path))
    kind = "tokentop" if offsets is not None else "openusage-compatible (read-only use)"
    click.echo(f"store      {path}")
    click.echo("integrity  ok")
    click.echo(f"schema     compatible: {kind}")
    click.echo(f"events     {counts['usage_events']:,}")
    click.echo(f"raw events {counts['usage_raw_events']:,}")
    if offsets is not None:
        click.echo(f"offsets    {offsets:,} files")
    if first:
        click.echo(f"range      {first} .. {last}")
    click.echo(f"db file    {_mb(_size(str(path)))} (free pages: {free:,} x {page_size} B)")
    click.echo(f"wal        {_mb(_size(f'{path}-wal'))}")


@db.command()
@click.option("--days", type=click.IntRange(min=1), default=90, show_default=True,
              help="Keep events of the last DAYS days.")
@click.pass_context
def prune(ctx: click.Context, days: int) -> None:
    """Delete old events and orphan raw events, blank old raw payloads."""
    from tokentop.store.usage import retention

    store = _open(ctx, read_only=False)
    try:
        with store:
            res = retention.run(store, days)
    except UsageStoreError as exc:
        _fail(str(exc))
    except sqlite3.Error as exc:
        _fail(describe(exc, store.path))
    click.echo(f"events deleted    {res.events_deleted:,}")
    click.echo(f"payloads cleared  {res.payloads_cleared:,}")
    click.echo(f"orphans deleted   {res.orphans_deleted:,}")
    click.echo(f"vacuumed          {'yes' if res.vacuumed else 'no'}")


@db.command("vacuum")
@click.pass_context
def vacuum_cmd(ctx: click.Context) -> None:
    """Compact the database file and reset its WAL."""
    from tokentop.store.usage import retention

    store = _open(ctx, read_only=False)
    before = _size(str(store.path))
    try:
        with store:
            retention.vacuum(store)
    except UsageStoreError as exc:
        _fail(str(exc))
    except sqlite3.Error as exc:
        _fail(describe(exc, store.path))
    click.echo(f"{store.path}: {_mb(before)} -> {_mb(_size(str(store.path)))}")
