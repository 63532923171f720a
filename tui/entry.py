"""The ``tokentop`` executable: ``tokentop statusline`` straight away, the rest by click.

Claude Code runs its status line command on every message and tmux on every status
refresh, so a plain ``tokentop statusline ...`` skips loading click and the command
group (~15-20 ms of a ~50 ms budget) and calls the same function the click command
calls. Any other command line, and a statusline one this does not recognise
(``--help``, a typo), goes to click as before.

``tokentop report ...`` (which collects first) starts walking the log directories
before click, the collect module and the report code are imported
(``tokentop.store.usage.sources.prefetch``).

Both leave without the interpreter's teardown (``_leave``): freeing every module and
object of a report that imported the store, the collectors and the price table took
20-35 ms after its output was written, a tenth of a warm report.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn

# the commands that leave by ``_leave``: headless, run often, timed by their users
# (a report after every message, a status line on every refresh), and done with
# every file and database they opened when they return
QUICK = ("report", "statusline")


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["report"] and not {"--no-ingest", "-h", "--help"} & set(args):
        # a report collects first: its walk of the log directories starts now, beside
        # the imports below (``sources.prefetch``)
        from tokentop.store.usage.sources import prefetch

        prefetch()
    if args[:1] and args[0] in QUICK:
        _leave(lambda: _run(args))
    _run(args)


def _run(args: list[str]) -> None:
    if args[:1] == ["statusline"]:
        from tokentop.tui.commands.statusline_run import parse_plain, run_statusline

        opts = parse_plain(args[1:])
        if opts is not None:
            run_statusline(**opts)  # type: ignore[arg-type]
            return
    from tokentop.tui.cli import main as cli

    cli()


def _leave(run: Callable[[], None]) -> NoReturn:
    """Run ``run`` and end the process as ``sys.exit`` would, with its status and its
    output flushed and the ``atexit`` handlers run, but without tearing down the
    interpreter (``os._exit``). Only once the command has returned or exited: an
    exception, Ctrl-C included, takes Python's own way out, and so does a process
    with a thread still running (it would be cut off, not waited for)."""
    import contextlib
    import os

    try:
        run()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        sys.exit(code)  # type: ignore[arg-type]
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): printed, status 1
        print(code, file=sys.stderr)
        code = 1
    import atexit

    atexit._run_exitfuncs()  # what an interpreter's exit runs first (logging's flush...)
    for stream in (sys.stdout, sys.stderr):
        # a reader gone (| head): nothing more to say, and no complaint about it
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code & 0xFF)
