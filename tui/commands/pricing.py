"""``tokentop pricing [--json]``: the bundled price table and its date.

Shown so a user can see which prices a cost came from, and how old they are; a model
missing here is reported as unpriced, never as free.
"""

from __future__ import annotations

import json

import click

from tokentop.store.pricing import PriceTable


@click.command("pricing", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def pricing(as_json: bool) -> None:
    """List the bundled model prices (USD per million tokens) and their date."""
    table = PriceTable.load()
    if as_json:
        doc = {
            "date": table.date,
            "source": table.source,
            "unit": "USD per million tokens",
            "models": [p.to_json() for p in table.prices.values()],
            "aliases": table.aliases,
        }
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(f"prices as of {table.date} (USD per million tokens)")
    click.echo(f"source: {table.source}")
    click.echo(f"{'model':<24} {'provider':<10} {'input':>8} {'output':>8} "
               f"{'cache wr':>9} {'cache rd':>9}  above 200k (in/out)")
    for p in table.prices.values():
        tier = f"  {p.above.input:g}/{p.above.output:g}" if p.above else ""
        click.echo(f"{p.model:<24} {p.provider:<10} {p.input:>8g} {p.output:>8g} "
                   f"{p.cache_write:>9g} {p.cache_read:>9g}{tier}")
