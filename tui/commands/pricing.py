"""``tokentop pricing [--json]`` and ``tokentop pricing update [--from URL|FILE]``.

``pricing`` says which table prices the costs (the bundled LiteLLM snapshot with its
version and date, or the one ``pricing update`` fetched, with its source and date) and
which overrides file applies, then lists the prices. A model missing here is reported
as unpriced, never as free.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from tokentop.store.pricing import PriceTable, updated_path
from tokentop.store.pricing_update import DEFAULT_URL, UpdateError, update


def _safe(text: str | None) -> str:
    """Table text is untrusted (a fetched file): no control characters reach the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text or ""))


def _in_force(table: PriceTable) -> dict[str, Any]:
    from tokentop.store.pricing_overrides import overrides_path

    doc: dict[str, Any] = {"table": table.origin, "date": table.date, "source": table.source,
                           "litellmVersion": table.litellm_version, "models": len(table.prices)}
    if table.origin == "updated":
        doc["path"] = str(table.path)
        doc["fetchedFrom"] = table.fetched_from
    ov = table.overrides
    doc["overrides"] = {
        "path": str(overrides_path()), "exists": ov is not None,
        "models": [] if ov is None else list(ov.models),
        "error": None if ov is None else ov.error,
    }
    return doc


@click.group("pricing", invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
@click.pass_context
def pricing(ctx: click.Context, as_json: bool) -> None:
    """Show the price table in force (USD per million tokens), its date and overrides."""
    if ctx.invoked_subcommand is not None:
        return
    table = PriceTable.load()
    info = _in_force(table)
    if as_json:
        info["unit"] = "USD per million tokens"
        info["prices"] = [p.to_json() for p in table.prices.values()]
        click.echo(json.dumps(info, indent=2))
        return
    if table.origin == "updated":
        click.echo(f"table: updated {_safe(table.date)} from {_safe(table.fetched_from)} "
                   f"({table.path})")
    else:
        click.echo(f"table: bundled, {_safe(table.source)}, extracted {_safe(table.date)}")
    ov = info["overrides"]
    if not ov["exists"]:
        click.echo(f"overrides: none ({ov['path']} does not exist)")
    elif ov["error"]:
        click.echo(f"overrides: {ov['path']}: {_safe(ov['error'])} (not applied)")
    else:
        click.echo(f"overrides: {ov['path']}: {len(ov['models'])} model(s)")
    click.echo(f"{len(table.prices)} models, USD per million tokens")
    click.echo(f"{'model':<48} {'provider':<16} {'input':>8} {'output':>8} "
               f"{'cache wr':>9} {'cache rd':>9} {'fast':>5}  above 200k (in/out)")
    for p in table.prices.values():
        tier = f"  {p.above.input:g}/{p.above.output:g}" if p.above else ""
        fast = f"{p.fast_multiplier:g}x" if p.fast_multiplier != 1.0 else ""
        click.echo(f"{_safe(p.model):<48} {_safe(p.provider)[:16]:<16} "
                   f"{p.input:>8g} {p.output:>8g} "
                   f"{p.cache_write:>9g} {p.cache_read:>9g} {fast:>5}{tier}")


@pricing.command("update")
@click.option("--from", "source", default=DEFAULT_URL, show_default=True, metavar="URL|FILE",
              help="Where to get LiteLLM's model_prices_and_context_window.json.")
def update_cmd(source: str) -> None:
    """Fetch a newer LiteLLM price table and use it instead of the bundled one."""
    dest = updated_path()
    try:
        doc = update(source, dest)
    except UpdateError as exc:
        click.echo(f"tokentop pricing update: {exc}; the price table in force is unchanged",
                   err=True)
        sys.exit(1)
    click.echo(f"{len(doc['models'])} models from {doc['fetched_from']} -> {dest}")
