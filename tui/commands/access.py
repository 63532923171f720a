"""``tokentop access FILE --json``: the summary of an airstore access-event log.

The very summary the Access screen shows (``tokentop.store.access.AccessLog``), read once to
the end of the file and printed as one JSON document: totals, backend vs
cache-served reads, original and delivered tokens, the ratio and tokens saved, per
integration, outcome and cache source, the top paths and a per-minute series.
Malformed lines are counted in ``malformed``, never fatal. A missing or unreadable
file is one line on stderr and exit 2. No Textual here: headless commands start fast.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from tokentop.tui.commands.common import fail

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}



@click.command("access", context_settings=CONTEXT)
@click.argument("file", metavar="FILE")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (the default).")
@click.option("--top", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="How many of the most read paths to list.")
def access(file: str, as_json: bool, top: int) -> None:
    """Summarise an airstore access-event JSONL file (reads, cache, tokens saved).

    FILE may be - to read the events from stdin.
    """
    from tokentop.store.access import AccessLog

    if file == "-":
        log = AccessLog("-")
        log.read_all()
        click.echo(json.dumps(log.document(top), separators=(",", ":")))
        return
    path = Path(file).expanduser()
    if not path.exists():
        fail(f"no such file: {path}")
    if path.is_dir():
        fail(f"is a directory, not an access-event file: {path}")
    try:
        os.close(os.open(path, os.O_RDONLY))
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")
    log = AccessLog(path)
    log.read_all()
    if log.stats.state == "failed":
        fail(log.stats.last_error or f"cannot read {path}")
    click.echo(json.dumps(log.document(top), separators=(",", ":")))
