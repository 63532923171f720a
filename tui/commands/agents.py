"""``tokentop agents [--json]``: every agent whose usage tokentop reads, where from.

The same list the empty Usage screen shows: each agent's ``--source`` name, the paths
read today (the variables applied) and whether they exist, and the variables that move
them. Paths come from the environment, so they are cleaned of control characters
before they reach the terminal.
"""

from __future__ import annotations

import json

import click

from tokentop.tui.format import clean


@click.command("agents")
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
def agents(as_json: bool) -> None:
    """List the agents whose usage tokentop reads, their paths and variables."""
    from tokentop.store.usage.agents import locations

    found = locations()
    if as_json:
        click.echo(json.dumps({"agents": [
            {"source": loc.name, "label": loc.label, "variables": list(loc.env),
             "paths": [{"path": str(p), "exists": p.exists()} for p in loc.paths]}
            for loc in found]}, indent=2))
        return
    width = max(len(loc.name) for loc in found) + 2
    for loc in found:
        click.echo(f"{loc.name:<{width}}{loc.label}  ({', '.join(loc.env)})")
        for p in loc.paths:
            click.echo(f"{'':<{width}}{clean(str(p))}{'' if p.exists() else '  (not found)'}")
