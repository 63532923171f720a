"""``tokentop export``: a box's SQLite agents as canonical events, for another tokentop.

Why a command: a machine collecting this box over ssh (``--host``) runs it here to read
the databases of OpenCode, Kilo, Goose, Hermes, ZCode and Antigravity, which it cannot
follow byte by byte (``tokentop.store.usage.remote_export`` says how). Read-only: the
databases are opened ``mode=ro``, no store is opened, no file is written; the state
(what the caller stored: watermarks, row marks, fingerprints) comes in on stdin.
"""

from __future__ import annotations

import sys

import click


@click.command("export")
@click.option("--source", "source", metavar="AGENT[,AGENT...]",
              help="Database agents to read [default: every one].")
@click.option("--json", "as_json", is_flag=True, required=True,
              help="JSON lines (the only format: it is for another tokentop).")
@click.option("--state", "state_path", metavar="FILE|-", default=None,
              help="What the caller stored (JSON; '-' for stdin) [default: nothing].")
def export(source: str | None, as_json: bool, state_path: str | None) -> None:
    """Print new usage from the agents' SQLite databases as JSON lines (for
    ``--host``: the collecting machine runs this on the box over ssh)."""
    from tokentop.store.usage.remote_agents import database_agents
    from tokentop.store.usage.remote_export import export as run
    from tokentop.store.usage.remote_export import read_state, sources_of

    try:
        sources = sources_of(source, database_agents())
        if state_path is None:
            data = b""
        elif state_path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(state_path, "rb") as fh:
                data = fh.read()
        state = read_state(data)
    except (ValueError, OSError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        click.echo(f"tokentop export: {text}", err=True)
        sys.exit(2)
    out = sys.stdout.buffer
    for line in run(sources, state):
        out.write(line)
    out.flush()
