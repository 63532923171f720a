"""``tokentop access SOURCE``: the summary of an airstore access log, headless.

SOURCE is airstore's REST API (``https://HOST/api/v1/workspaces/WS``, optionally with
``?session=``; the token from ``AIRSTORE_TOKEN``, as airstore's own CLI reads it), paged
to the end with its cursor; or a file (JSONL of ``AccessEvent`` lines or saved API pages,
or one saved page); or ``-`` for stdin. The very summary the Access screen shows
(``tokentop.store.access``), printed once: JSON by default (GetSummary's keys, then
tokentop's), or ``--text``. Malformed records are counted in ``malformed``, never fatal;
duplicates (same ``event_id``) are skipped and counted. A missing file, a refused token,
a workspace that does not exist or a server that keeps failing is one line on stderr
(the token never in it) and exit 2. No Textual here: headless commands start fast.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from tokentop.store.tail.regular import check_regular
from tokentop.tui.commands.common import fail

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _check_file(spec: str) -> None:
    path = Path(spec).expanduser()
    if not path.exists():
        fail(f"no such file: {path}")
    if path.is_dir():
        fail(f"is a directory, not an access-event file: {path}")
    try:
        check_regular(path)  # a FIFO blocked open() here
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")


@click.command("access", context_settings=CONTEXT)
@click.argument("source", metavar="SOURCE")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (the default).")
@click.option("--text", "as_text", is_flag=True, help="Print the summary as text instead.")
@click.option("--top", type=click.IntRange(1, 1000), default=20, show_default=True,
              help="How many paths to list (most original tokens first, as airstore does).")
def access(source: str, as_json: bool, as_text: bool, top: int) -> None:
    """Summarise an airstore access log: reads, cache, tokens, timings, errors, sessions.

    SOURCE is https://HOST/api/v1/workspaces/WORKSPACE_ID (token in AIRSTORE_TOKEN),
    a JSONL file of access events or saved API pages, a saved page, or - for stdin.
    """
    from tokentop.store.access import TOKEN_ENV, open_source
    from tokentop.store.access.api import is_url

    if as_json and as_text:
        fail("--json and --text exclude each other")
    if not is_url(source) and source != "-":
        _check_file(source)
    reader = open_source(source, token=os.environ.get(TOKEN_ENV) or None)
    if isinstance(reader, str):
        fail(reader)
    reader.read_all()
    if reader.stats.state == "failed":
        fail(reader.stats.last_error or f"cannot read {reader.name}")
    if as_text:
        from tokentop.tui.commands.access_report import report_lines

        snap = reader.snapshot(top)
        click.echo("\n".join(report_lines(reader.name, snap, reader.stats.malformed)))
        return
    click.echo(json.dumps(reader.document(top), separators=(",", ":")))
