"""``tokentop statusline``: one line of cost for Claude Code's status bar or tmux.

Reads the store only (the hourly rollup and the partial hours at its edges), never the
agents' logs: keeping the store current is ``tokentop ingest``'s job (``tokentop collect
--install`` runs it every few minutes). Imports nothing it does not print: Claude Code
runs this on every message.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from tokentop.tui.commands.common import fail

FORMAT_HELP = ("Template for the line, e.g. for tmux: '{today} {block} {left}'. "
               "Placeholders: {today} {block} {left} {block_end} {burn} {quota} "
               "{quota_reset} {session} {model}. Printed without colors.")


@click.command("statusline")
@click.option("--store", "store_path", metavar="PATH",
              help="Usage store [default: $XDG_STATE_HOME/tokentop/usage.db].")
@click.option("--format", "template", metavar="TEMPLATE", help=FORMAT_HELP)
@click.option("--color/--no-color", "color", default=None,
              help="Color the default line [default: on, unless NO_COLOR is set].")
@click.option("--tz", "tz_name", metavar="ZONE",
              help="Time zone whose midnight starts 'today' [default: the system's].")
@click.option("--at", "at", metavar="ISO8601", hidden=True,
              help="Compute as of this instant (tests, benchmarks).")
def statusline(store_path: str | None, template: str | None, color: bool | None,
               tz_name: str | None, at: str | None) -> None:
    """One line: today's cost, the active 5-hour block's cost and time left, the burn
    rate and the nearest quota. Reads Claude Code's status JSON on stdin when given
    (its session cost, model and rate limits join the line); works without it.

    Claude Code (~/.claude/settings.json):
    {"statusLine": {"type": "command", "command": "tokentop statusline"}}
    """
    from tokentop.store.usage.glance import read_glance
    from tokentop.store.usage.paths import default_db_path
    from tokentop.store.usage.reports import ReportError, connect_read_only, parse_tz
    from tokentop.tui.commands.claude_status import StatusInputError, parse_status, read_input
    from tokentop.tui.commands.statusline_format import (
        FormatError,
        check_template,
        render_default,
        render_template,
    )

    if template is not None:
        try:
            check_template(template)
        except FormatError as e:
            fail(str(e))
    now = datetime.now(UTC)
    if at:
        try:
            from tokentop.store.timeparse import parse_instant

            now = parse_instant(at)
        except ValueError:
            fail(f"--at is not an ISO 8601 time: {at!r}")
    try:
        tz = parse_tz(tz_name)
    except ReportError as e:
        fail(str(e))
    raw = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else None
    try:
        status = parse_status(read_input(raw), now)
    except StatusInputError as e:
        # the line still prints: a status bar that goes blank helps nobody
        click.echo(f"tokentop: {e}; ignored", err=True)
        status = parse_status(b"", now)
    path = Path(store_path).expanduser() if store_path else default_db_path()
    try:
        conn = connect_read_only(path)
    except ReportError as e:
        fail(f"{e} (run tokentop ingest)" if not path.exists() else str(e))
    try:
        glance = read_glance(conn, now, tz)
    except sqlite3.Error as e:  # a damaged store: one line, not a traceback
        fail(f"cannot read usage store {path}: {e}")
    finally:
        conn.close()
    if template is not None:
        line = render_template(template, glance, status)
    else:
        if color is None:
            color = not os.environ.get("NO_COLOR")
        line = render_default(glance, status, color)
    # Untrusted parts are escaped already (statusline_format.values); written past the
    # headless commands' escaping stream so the color codes reach the terminal.
    out = getattr(sys.stdout, "_raw", sys.stdout)
    out.write(line + "\n")
    out.flush()
