"""``--host USER@BOX`` for the headless commands: collect other boxes over SSH first.

Why shared: ``ingest`` and every ``report`` read the same boxes the same way, and say
the same one line for a box that cannot be reached while the others are read. Without
``--host``, the config file's ``hosts = [...]`` is used (as the dashboard does).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

HOST_HELP = ("Also collect this box's agent logs over ssh (repeatable; your ssh keys "
             "and ~/.ssh/config) [default: hosts in the config file].")


def host_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--host", "hosts", metavar="USER@BOX", multiple=True,
                        help=HOST_HELP)(f)


def wanted_hosts(given: Sequence[str]) -> list[str]:
    """``--host`` values, else the config file's ``hosts`` (a file that cannot be read
    is the dashboard's business: none then)."""
    if given:
        return list(dict.fromkeys(given))
    from tokentop.tui.config.location import config_path

    if not config_path().exists():  # most runs: no file, no reader imported
        return []
    from tokentop.tui.config.settings import configured_hosts

    return configured_hosts()


def collect_hosts(store: Any, hosts: Sequence[str]) -> tuple[dict[str, Any], bool]:
    """Each box into ``store``: its counts by host, and whether any box failed (one line
    on stderr each, with when it was last read)."""
    from tokentop.store.usage.remote import RemoteCollector, RemoteError, last_read

    out: dict[str, Any] = {}
    failed = False
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
        out[host] = {"ok": True, **report.as_dict()}
    return out, failed


def host_lines(doc: dict[str, Any]) -> list[str]:
    """One line per box read, for ``ingest``'s table."""
    lines = []
    for host, d in doc.items():
        if d.get("ok"):
            lines.append(f"host {host}: {d['claude']['files'] + d['codex']['files']} files, "
                         f"{d['bytes_read'] / 1e6:.1f} MB read, {d['inserted']} inserted")
    return lines
