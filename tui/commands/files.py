"""``tokentop inventory`` and ``tokentop wipe``: gridctl's telemetry files, headless.

``inventory [DIR] [--json]`` prints one record per (server, signal) with files: bytes,
file count, oldest and newest modification time (``--json``: what ``gridctl telemetry
status --json`` prints, byte for byte: ``stack``, bare ``server``, ``signal``, ``path``,
``sizeBytes``, ``fileCount``, local ``oldest``/``newest`` as ``YYYY-MM-DD HH:MM``).
The ``__skills__`` skill-usage directory is listed and wiped as gridctl does.
``wipe [DIR] [--server S] [--signal X] [-y]`` deletes the active files of the scope and
their rotated siblings, nothing else.

A wipe lists exactly what it will delete first; without ``-y`` it asks on the terminal,
and when stdin is not a terminal (a script, a pipe) it refuses rather than guess: exit
2. Names are checked before anything is touched (``..``, separators, absolute paths
are refused). Files that cannot be deleted are reported one per line and the rest are
still deleted (exit 1). The same ``tokentop.store.gridctl`` code runs under the Files screen.
No Textual here: headless commands start fast.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
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
    """A ``--server`` that names no directory gridctl's inventory walks: exit 2."""
    from tokentop.store.gridctl.inventory import matches, server_dirs

    names = [name for name, _ in server_dirs(layout)]
    if server and not any(matches(name, server) for name in names):
        from tokentop.tui.format import clean

        known = ", ".join(clean(s) for s in names) or "none"
        fail(f"no server {clean(server)!r} (known: {known})")


def _n(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _local(ts: float) -> str:
    return datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M")


def _table(records: list[InventoryRecord]) -> str:
    from tokentop.store.gridctl.inventory import totals
    from tokentop.tui.format import clean, nbytes

    stacks = [clean(r.stack) for r in records]
    names = [clean(r.bare_server) for r in records]
    sw = max([len("STACK"), *(len(n) for n in stacks)])
    width = max([len("SERVER"), *(len(n) for n in names)])
    lines = [f"{'STACK':<{sw}}  {'SERVER':<{width}}  SIGNAL   {'SIZE':>9}  FILES  "
             "OLDEST            NEWEST"]
    for stack, name, r in zip(stacks, names, records, strict=True):
        lines.append(f"{stack:<{sw}}  {name:<{width}}  {r.signal:<7}  "
                     f"{nbytes(r.size_bytes):>9}  {r.file_count:>5}  {_local(r.oldest)}  "
                     f"{_local(r.newest)}")
    t = totals(records)
    lines.append(f"total: {_n(t.servers, 'server')}, {_n(t.records, 'signal')}, "
                 f"{_n(t.files, 'file')}, {nbytes(t.size_bytes)}")
    return "\n".join(lines)


@click.command("inventory")
@click.argument("directory", metavar="[DIR]", required=False)
@click.option("--json", "as_json", is_flag=True,
              help="Print what `gridctl telemetry status --json` prints (its statusRow "
                   "array: stack, server, signal, path, sizeBytes, fileCount, oldest, "
                   "newest in local time).")
@click.option("--server", default="", metavar="[STACK/]SERVER",
              help="Only this server (a bare name: in every stack).")
def inventory(directory: str | None, as_json: bool, server: str) -> None:
    """List gridctl telemetry files: size, file count and age per server and signal.

    DIR is the telemetry root (all stacks) or one stack directory [default:
    $GRIDCTL_HOME/.gridctl/telemetry or ~/.gridctl/telemetry]. Sizes and times cover the active
    file and its rotated siblings (plain and .gz); times are modification times.
    """
    from tokentop.store.gridctl.inventory import inventory as scan

    layout = _layout(directory)
    _known_server(layout, server)
    unreadable: list[Path] = []
    records = scan(layout, server, unreadable)
    from tokentop.tui.format import clean

    for d in unreadable:  # named, not skipped in silence
        click.echo(f"tokentop: cannot read {clean(d)}: permission denied", err=True)
    if as_json:
        from tokentop.store.gridctl import gojson

        click.echo(gojson.dumps([r.to_json() for r in records]), nl=False)
    elif not records:
        click.echo("no telemetry files")
    else:
        click.echo(_table(records))
    if unreadable:
        sys.exit(1)


@click.command("wipe")
@click.argument("directory", metavar="[DIR]", required=False)
@click.option("--server", default="", metavar="[STACK/]SERVER",
              help="Only this server; a bare name is that server in every stack "
                   "[default: every server, __skills__ included].")
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
    for refused in planned.refused:
        click.echo(f"tokentop: not deleting {clean(refused.path)}: {clean(refused.message)}",
                   err=True)
    if not t.files:
        click.echo("nothing to wipe")
        if planned.refused:
            sys.exit(1)
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
    if report.errors or planned.refused:
        sys.exit(1)
