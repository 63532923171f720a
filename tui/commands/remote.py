"""``--host USER@BOX`` for the headless commands: collect other boxes over SSH first.

Why shared: ``ingest`` and every ``report`` read the same boxes the same way, and say
the same one line for a box that cannot be reached while the others are read. Without
``--host``, the config file's ``hosts = [...]`` is used (as the dashboard does).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

HOST_HELP = ("Also collect this box's agent logs over ssh (repeatable; your ssh keys "
             "and ~/.ssh/config) [default: hosts in the config file].")


TOKENTOP_HELP = ("The tokentop on a --host box, which reads its SQLite agents (OpenCode, "
                 "Goose, ...); repeatable [default: the config file's remote-tokentops, "
                 "else tokentop on the box's PATH or in ~/.local/bin].")


def _remote_tokentop(ctx: click.Context, param: click.Parameter,
                     value: Sequence[str]) -> None:
    """Handed to ``RemoteCollector`` through its variable: every command with
    ``--host`` takes it without a parameter of its own."""
    if value:  # click calls this for every run: the module only when there is one
        from tokentop.store.usage.remote_databases import ENV

        os.environ[ENV] = ",".join(value)


def host_option(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--remote-tokentop", metavar="BOX=PATH", multiple=True,
                     expose_value=False, callback=_remote_tokentop, help=TOKENTOP_HELP)(f)
    return click.option("--host", "hosts", metavar="USER@BOX", multiple=True,
                        help=HOST_HELP)(f)


def configured_tokentops() -> None:
    """The config file's ``remote-tokentops`` (as the dashboard reads it), unless the
    command line or the environment named them."""
    from tokentop.store.usage.remote_databases import ENV
    from tokentop.tui.config.settings import ConfigError, config_path, read_file

    if os.environ.get(ENV):
        return
    try:
        value = (read_file(config_path()) or {}).get("remote-tokentops")
    except ConfigError:
        return
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value) and value:
        os.environ[ENV] = ",".join(value)


def wanted_hosts(given: Sequence[str]) -> list[str]:
    """``--host`` values, else the config file's ``hosts`` (a file that cannot be read
    is the dashboard's business: none then)."""
    if given:
        return list(dict.fromkeys(given))
    from tokentop.tui.config.location import config_path

    # most runs: no file, no reader imported (nor one this user cannot stat: none then,
    # as the reader would say)
    if not os.path.exists(config_path()):
        return []
    from tokentop.tui.config.settings import configured_hosts

    return configured_hosts()


def collect_hosts(store: Any, hosts: Sequence[str]) -> tuple[dict[str, Any], bool]:
    """Each box into ``store``: its counts by host, and whether any box failed (one line
    on stderr each, with when it was last read)."""
    from tokentop.store.usage.remote import RemoteCollector, RemoteError, last_read

    out: dict[str, Any] = {}
    failed = False
    configured_tokentops()
    for host in hosts:
        try:
            col = RemoteCollector(host)
        except RemoteError as exc:
            out[host] = {"ok": False, "error": str(exc)}
            print(f"tokentop: {exc}", file=sys.stderr)
            failed = True
            continue
        try:
            report = col.collect(store)
        except RemoteError as exc:
            when = last_read(store.conn, host)
            out[host] = {"ok": False, "error": str(exc), "last_read": when}
            print(f"tokentop: unreachable: {exc} (last read: {when or 'never'})",
                  file=sys.stderr)
            failed = True
            continue
        finally:
            col.close()
        out[host] = {"ok": True, **report.as_dict(), "notes": list(col.status.notes)}
        for note in col.status.notes:  # an agent not read there: said, not a failure
            print(f"tokentop: {note}", file=sys.stderr)
    return out, failed


def host_lines(doc: dict[str, Any]) -> list[str]:
    """One line per box read, for ``ingest``'s table."""
    lines = []
    for host, d in doc.items():
        if d.get("ok"):
            files = sum(v["files"] for v in d.values() if isinstance(v, dict) and "files" in v)
            lines.append(f"host {host}: {files} files, "
                         f"{d['bytes_read'] / 1e6:.1f} MB read, {d['inserted']} inserted")
    return lines
