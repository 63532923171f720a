"""What every headless command shares: the one-line failure, and DIR checked like the
metrics command checks it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click


def fail(message: str) -> NoReturn:
    """A user-caused problem: one line on stderr, exit 2, never a traceback. The message
    often quotes untrusted text (a path, a server's reply): written under
    ``tokentop.tui.output``'s rule, and on one line."""
    from tokentop.tui.output import escape_output

    one_line = " ".join(str(message).splitlines())
    click.echo(f"tokentop: {escape_output(one_line)}", err=True)
    sys.exit(2)


def store_open_failed(path: Path, exc: Exception) -> NoReturn:
    """``fail`` for a usage store that would not open, naming the path once: the
    store's own messages already name it ("disk full: PATH ...")."""
    text = str(exc)
    fail(f"cannot open usage store: {text}" if str(path) in text
         else f"cannot open usage store {path}: {text}")


def telemetry_dir(directory: str | None, what: str = "telemetry directory") -> Path:
    """DIR, or gridctl's default root, as an existing readable directory (else exit 2)."""
    from tokentop.store.metrics.layout import GridctlHomeError, default_root

    try:
        target = Path(directory).expanduser() if directory else default_root()
    except GridctlHomeError as exc:  # gridctl refuses a relative GRIDCTL_HOME: so do we
        fail(str(exc))
    if not target.exists():
        hint = "" if directory else " (pass DIR or set GRIDCTL_HOME)"
        fail(f"{what} not found: {target}{hint}")
    if not target.is_dir():
        fail(f"not a directory: {target}")
    try:
        next(iter(target.iterdir()), None)
    except PermissionError:
        fail(f"cannot read directory: {target}")
    return target


# --latency-cache (dashboard and `traces`): tokentop.store.traces.open's LatencyCacheMode, spelt
# out here so `--help` need not import the trace stores.
LATENCY_CACHE_MODES = ("auto", "file", "memory", "off")


def unreadable_lines(d: dict) -> list[str]:
    """One line per file a collector could not read (named, not skipped in silence)."""
    return [f"tokentop: cannot read {what}" for c in d.values() if isinstance(c, dict)
            for what in c.get("unreadable", ())]


def rejected_text(rejected: dict[str, int]) -> str:
    """``2 time out of range, 1 token count out of range``: why events were refused."""
    return ", ".join(f"{n:,} {reason}" for reason, n in
                     sorted(rejected.items(), key=lambda kv: (-kv[1], kv[0])))
