"""``tokentop statusline``: one line of cost for Claude Code's status bar or tmux.

Reads the store only (the hourly rollup and the partial hours at its edges), never the
agents' logs: keeping the store current is ``tokentop ingest``'s job (``tokentop collect
--install`` runs it every few minutes). The work is ``statusline_run.run_statusline``,
which the ``tokentop`` executable also calls without click (``tokentop.tui.entry``).
"""

from __future__ import annotations

import click

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
@click.option("--cache-seconds", "cache_seconds", type=click.FloatRange(0, 3600),
              default=None, metavar="SECONDS",
              help="Serve the line read from the store up to this many seconds ago while "
                   "the store is unchanged; 0 reads the store every time [default: 10].")
@click.option("--at", "at", metavar="ISO8601", hidden=True,
              help="Compute as of this instant, without the cache (tests, benchmarks).")
def statusline(store_path: str | None, template: str | None, color: bool | None,
               tz_name: str | None, cache_seconds: float | None, at: str | None) -> None:
    """One line: today's cost, the active 5-hour block's cost and time left, the burn
    rate and the nearest quota. Reads Claude Code's status JSON on stdin when given
    (its session cost, model and rate limits join the line); works without it.

    \b
    Claude Code (~/.claude/settings.json):
      {"statusLine": {"type": "command", "command": "tokentop statusline"}}
    tmux (~/.tmux.conf):
      set -g status-right '#(tokentop statusline --format "{today} {block} {left}")'
    """
    from tokentop.tui.commands.statusline_run import run_statusline

    run_statusline(store_path, template, color, tz_name, at, cache_seconds)
