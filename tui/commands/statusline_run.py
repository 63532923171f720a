"""What ``tokentop statusline`` does, without click: the ``tokentop`` executable calls
this straight away for a plain ``statusline`` command line (``tokentop.tui.entry``), so
Claude Code, which runs it on every message, does not wait ~15 ms for click to load.
The click command (``tokentop.tui.commands.statusline``) calls the same function, so
both give the same line and the same errors.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn


def fail(message: str) -> NoReturn:
    """``tokentop.tui.commands.common.fail`` without click: one escaped line, exit 2."""
    from tokentop.tui.output import escape_output

    one_line = " ".join(str(message).splitlines())
    sys.stderr.write(f"tokentop: {escape_output(one_line)}\n")
    sys.stderr.flush()
    sys.exit(2)


def warn(message: str) -> None:
    from tokentop.tui.output import escape_output

    sys.stderr.write(f"tokentop: {escape_output(message)}\n")


def _local_day(now: float, tz_name: str | None) -> str:
    """The local date of ``now``: ``--tz``'s (as ``reports.parse_tz`` reads a zone
    name), else the system zone's, without loading the reports module."""
    import time

    if not tz_name:
        return time.strftime("%Y-%m-%d", time.localtime(now))
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    try:
        zone = ZoneInfo(tz_name)
    except (ValueError, OSError, KeyError):
        fail(f"unknown timezone {tz_name!r}")
    return datetime.fromtimestamp(now, UTC).astimezone(zone).strftime("%Y-%m-%d")


def _read_fast(path: str, now: float, tz_name: str | None) -> dict[str, Any] | None:
    """The snapshot without the read model (``glance_fast``), or None where only the
    read model is sure (a foreign or older store, a zone or file it must word an error
    for)."""
    import sqlite3
    from datetime import UTC, datetime

    from tokentop.store.usage import glance_fast

    tz = glance_fast.parse_tz(tz_name)
    if tz is None:
        return None
    conn = glance_fast.connect_read_only(path)
    if conn is None:
        return None
    try:
        return glance_fast.read_snapshot(conn, datetime.fromtimestamp(now, UTC), tz)
    except sqlite3.Error:  # the read model below reads it again and words the error
        return None
    finally:
        conn.close()


def _read_snapshot(store: str, now: float, tz_name: str | None) -> dict[str, Any]:
    """The snapshot read from the store: by ``glance_fast`` where it is exact (the
    price cache, a few modules), else by the read model and the price table."""
    fast = _read_fast(store, now, tz_name)
    if fast is not None:
        return fast
    import sqlite3
    from datetime import UTC, datetime
    from pathlib import Path

    from tokentop.store.usage.glance import read_glance, snapshot
    from tokentop.store.usage.reports import ReportError, connect_read_only, parse_tz

    try:
        tz = parse_tz(tz_name)
    except ReportError as e:
        fail(str(e))
    path = Path(store)
    try:
        conn = connect_read_only(path)
    except ReportError as e:
        fail(f"{e} (run tokentop ingest)" if not path.exists() else str(e))
    try:
        return snapshot(read_glance(conn, datetime.fromtimestamp(now, UTC), tz))
    except sqlite3.Error as e:  # a damaged store: one line, not a traceback
        fail(f"cannot read usage store {path}: {e}")
    finally:
        conn.close()


def run_statusline(store_path: str | None, template: str | None, color: bool | None,
                   tz_name: str | None, at: str | None,
                   cache_seconds: float | None = None) -> None:
    """Read stdin and the store (or the snapshot kept from a call seconds ago), print
    the line (see the command's help). ``at`` pins the clock and skips the cache."""
    import time

    from tokentop.tui.commands import statusline_cache as cache
    from tokentop.tui.commands.claude_status import StatusInputError, parse_status, read_input
    from tokentop.tui.commands.statusline_format import (
        FormatError,
        check_template,
        render_default,
        render_template,
    )

    if template is not None:
        try:
            check_template(template)
        except FormatError as e:
            fail(str(e))
    max_age = cache.DEFAULT_SECONDS if cache_seconds is None else cache_seconds
    now = time.time()
    if at:
        try:
            from tokentop.store.timeparse import parse_instant

            now = parse_instant(at).timestamp()
        except ValueError:
            fail(f"--at is not an ISO 8601 time: {at!r}")
        max_age = 0
    raw = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else None
    try:
        status = parse_status(read_input(raw))
    except StatusInputError as e:
        warn(f"{e}; ignored")  # the line still prints: a blank status bar helps nobody
        status = parse_status(b"")
    from tokentop.store.usage.glance_paths import default_db_path
    from tokentop.store.xdg import user_dir

    state = user_dir("state", "tokentop")  # ``state_dir``, without platformdirs
    team = False
    if store_path is not None and "://" in store_path:  # every team URL has one
        from tokentop.store.usage.team.location import is_team_url, replica_path

        team = is_team_url(store_path)
    if team:  # the replica as last pulled: no network in 50 ms
        path = str(replica_path(str(store_path)))
    elif store_path:
        path = os.path.expanduser(store_path)
    else:
        path = default_db_path()
    snap = key = None
    if max_age > 0:
        key = cache.make_key(path, tz_name or "", _local_day(now, tz_name))
        snap = cache.load(os.path.join(state, cache.NAME), key, now, max_age)
    if snap is None:
        snap = _read_snapshot(path, now, tz_name)
        if key is not None and os.path.isdir(state):
            cache.save(os.path.join(state, cache.NAME), key, now, snap)
    if template is not None:
        line = render_template(template, snap, status, now)
    else:
        if color is None:
            color = not os.environ.get("NO_COLOR")
        line = render_default(snap, status, now, color)
    # Untrusted parts are escaped already (statusline_format.values); written past the
    # headless commands' escaping stream so the color codes reach the terminal.
    out = getattr(sys.stdout, "_raw", sys.stdout)
    out.write(line + "\n")
    out.flush()


VALUED = {"--store": "store_path", "--format": "template", "--tz": "tz_name", "--at": "at",
          "--cache-seconds": "cache_seconds"}


def parse_plain(args: list[str]) -> dict[str, Any] | None:
    """The options of a plain ``statusline`` command line, or None for anything else
    (``--help``, an unknown or incomplete option): click then parses it and answers."""
    opts: dict[str, Any] = {"store_path": None, "template": None, "color": None,
                            "tz_name": None, "at": None, "cache_seconds": None}
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if name in VALUED:
            if not eq:
                if i + 1 >= len(args):
                    return None
                i += 1
                value = args[i]
            if name == "--cache-seconds":
                try:
                    opts["cache_seconds"] = float(value)
                except ValueError:
                    return None  # click says what is wrong with it
                if not 0 <= opts["cache_seconds"] <= 3600:
                    return None
            else:
                opts[VALUED[name]] = value
        elif arg in ("--color", "--no-color"):
            opts["color"] = arg == "--color"
        else:
            return None
        i += 1
    return opts
