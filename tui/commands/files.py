"""``tokentop inventory`` and ``tokentop wipe``: gridctl's telemetry files, headless.

``inventory [DIR] [--json]`` prints one record per (server, signal) with files: bytes,
file count, oldest and newest modification time (``--json``: gridctl's
``InventoryRecord`` array, times in UTC). ``wipe [DIR] [--server S] [--signal X] [-y]``
deletes the active files of the scope and their rotated siblings, nothing else.

A wipe lists exactly what it will delete first; without ``-y`` it asks on the terminal,
and when stdin is not a terminal (a script, a pipe) it refuses rather than guess: exit
2. Names are checked before anything is touched (``..``, separators, absolute paths
are refused). Files that cannot be deleted are reported one per line and the rest are
still deleted (exit 1). The same ``tokentop.store.gridctl`` code runs under the Files screen.
No Textual here: headless commands start fast.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING

import click

from tokentop.tui.commands.common import fail, telemetry_dir

if TYPE_CHECKING:
    from tokentop.store.gridctl.inventory import InventoryRecord
    from tokentop.store.metrics.layout import Layout



def _layout(directory: str | None) -> Layout:
    """DIR (or the default root) resolved like the metrics command; missing = exit 2."""
    from tokentop.store.metrics.layout import Layout

    return Layout.resolve(telemetry_dir(directory))


def _known_server(layout: Layout, server: str) -> None:
    if server and server not in layout.server_dirs():
        from tokentop.tui.format import clean

        known = ", ".join(clean(s) for s in sorted(layout.server_dirs())) or "none"
        fail(f"no server {clean(server)!r} (known: {known})")


def _n(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _local(ts: float) -> str:
    return datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M")


def _table(records: list[InventoryRecord]) -> str:
    from tokentop.store.gridctl.inventory import totals
    from tokentop.tui.format import clean, nbytes

    names = [clean(r.server) for r in records]
    width = max([len("SERVER"), *(len(n) for n in names)])
    lines = [f"{'SERVER':<{width}}  SIGNAL   {'SIZE':>9}  FILES  OLDEST            NEWEST"]
    for name, r in zip(names, records, strict=True):
        lines.append(f"{name:<{width}}  {r.signal:<7}  {nbytes(r.size_bytes):>9}  "
                     f"{r.file_count:>5}  {_local(r.oldest)}  {_local(r.newest)}")
    t = totals(records)
    lines.append(f"total: {_n(t.servers, 'server')}, {_n(t.records, 'signal')}, "
                 f"{_n(t.files, 'file')}, {nbytes(t.size_bytes)}")
    return "\n".join(lines)


@click.command("inventory")
@click.argument("directory", metavar="[DIR]", required=False)
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON array of gridctl InventoryRecords (UTC times).")
@click.option("--server", default="", metavar="STACK/SERVER", help="Only this server.")
def inventory(directory: str | None, as_json: bool, server: str) -> None:
    """List gridctl telemetry files: size, file count and age per server and signal.

    DIR is the telemetry root (all stacks) or one stack directory [default:
    $GRIDCTL_HOME/.gridctl/telemetry or ~/.gridctl/telemetry]. Sizes and times cover the active
    file and its rotated siblings (plain and .gz); times are modification times.
    """
    from tokentop.store.gridctl.inventory import inventory as scan

    layout = _layout(directory)
    _known_server(layout, server)
    records = scan(layout, server)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in records], separators=(",", ":")))
    elif not records:
        click.echo("no telemetry files")
    else:
        click.echo(_table(records))


@click.command("wipe")
@click.argument("directory", metavar="[DIR]", required=False)
@click.option("--server", default="", metavar="STACK/SERVER",
              help="Only this server [default: every server].")
@click.option("--signal", default="", metavar="logs|metrics|traces",
              help="Only this signal [default: all three].")
@click.option("-y", "--yes", is_flag=True, help="Delete without asking.")
def wipe(directory: str | None, server: str, signal: str, yes: bool) -> None:
    """Delete gridctl telemetry files: active files and their rotated siblings.

    Lists what it will delete, then asks (or deletes at once with -y). Without -y and
    without a terminal on stdin it refuses (exit 2). Other files are never touched.
    Exit status: 0 done (or nothing to wipe), 1 declined or some files not deleted,
    2 bad arguments.
    """
    from tokentop.store.gridctl.wipe import WipeError, execute, plan
    from tokentop.tui.format import clean, nbytes

    layout = _layout(directory)
    try:
        planned = plan(layout, server, signal)
    except WipeError as exc:
        fail(str(exc))
    _known_server(layout, server)
    t = planned.totals
    if not t.files:
        click.echo("nothing to wipe")
        return
    assert t.oldest is not None and t.newest is not None
    scope = ", ".join(clean(s) for s in planned.servers)
    click.echo(f"{_n(t.files, 'file')}, {nbytes(t.size_bytes)}, of "
               f"{_n(t.servers, 'server')} ({scope}); "
               f"signals: {', '.join(planned.signals)}; written {_local(t.oldest)} to "
               f"{_local(t.newest)}:")
    for record in planned.records:
        for f in record.files:
            click.echo(f"  {nbytes(f.size):>9}  {clean(f.path)}")
    if not yes:
        if not sys.stdin.isatty():
            fail("not deleting: stdin is not a terminal; pass -y to wipe without asking")
        if not click.confirm(f"Delete {'this file' if t.files == 1 else f'these {t.files} files'}?",
                             default=False):
            click.echo("tokentop: nothing deleted", err=True)
            sys.exit(1)
    report = execute(planned)
    click.echo(f"deleted {_n(len(report.deleted), 'file')}, {nbytes(report.freed_bytes)}")
    for error in report.errors:
        click.echo(f"tokentop: could not delete {clean(error.path)}: {error.message}",
                   err=True)
    if report.errors:
        sys.exit(1)
