"""The ``tokentop`` executable: ``tokentop statusline`` straight away, the rest by click.

Claude Code runs its status line command on every message and tmux on every status
refresh, so a plain ``tokentop statusline ...`` skips loading click and the command
group (~15-20 ms of a ~50 ms budget) and calls the same function the click command
calls. Any other command line, and a statusline one this does not recognise
(``--help``, a typo), goes to click as before.

``tokentop report ...`` (which collects first) starts walking the log directories
before click, the collect module and the report code are imported
(``tokentop.store.usage.sources.prefetch``).
"""

from __future__ import annotations

import sys


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["report"] and not {"--no-ingest", "-h", "--help"} & set(args):
        # a report collects first: its walk of the log directories starts now, beside
        # the imports below (``sources.prefetch``)
        from tokentop.store.usage.sources import prefetch

        prefetch()
    if args[:1] == ["statusline"]:
        from tokentop.tui.commands.statusline_run import parse_plain, run_statusline

        opts = parse_plain(args[1:])
        if opts is not None:
            run_statusline(**opts)  # type: ignore[arg-type]
            return
    from tokentop.tui.cli import main as cli

    cli()
