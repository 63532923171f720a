"""``tokentop ingest``: collect new agent-log bytes into the usage store once.

Progress (a percentage of the new bytes) goes to stderr while stderr is a terminal;
the counts go to stdout, as one JSON line with ``--json`` or a short table. No Textual
here: headless commands must start fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from tokentop.store.usage.team.location import is_team_url
from tokentop.tui.commands.common import fail, rejected_text, store_open_failed, unreadable_lines
from tokentop.tui.commands.percent import Percent
from tokentop.tui.commands.remote import collect_hosts, host_lines, host_option, wanted_hosts


def _readable_dir(path: Path, what: str) -> None:
    if not path.exists():
        fail(f"{what} not found: {path}")
    if not path.is_dir():
        fail(f"{what} is not a directory: {path}")
    try:
        next(iter(path.iterdir()), None)
    except OSError as e:
        fail(f"cannot read {what} {path}: {e.strerror or e}")


def _table(d: dict) -> str:
    rows = [f"{'collector':<11}{'files':>7}{'read':>7}{'MB':>9}{'lines':>10}{'usage':>9}"
            f"{'malformed':>10}{'skipped':>9}"]
    from tokentop.store.usage.agents import AGENTS

    for name in dict.fromkeys(("claude", "codex", "hook_spool", *(a.name for a in AGENTS))):
        c = d.get(name)
        if c is None:
            continue
        rows.append(
            f"{name:<11}{c['files']:>7}{c['files_read']:>7}{c['bytes_read'] / 1e6:>9.1f}"
            f"{c['lines']:>10}{c['usage_lines']:>9}{c['malformed']:>10}"
            f"{sum(c['skipped'].values()):>9}"
        )
    rows.append(
        f"store: {d['inserted']} inserted, {d['enriched']} enriched, "
        f"{d['duplicates']} duplicates, {sum(d['rejected'].values())} rejected "
        f"in {d['elapsed_s']:.2f} s"
    )
    if d["rejected"]:
        rows.append(f"not stored: {rejected_text(d['rejected'])}")
    return "\n".join(rows)


def found_nothing(d: dict) -> bool:
    """No collector found a single file to read: no agent has written logs where
    tokentop looks (or they moved: a variable unset, another home)."""
    return not any(c.get("files") for c in d.values() if isinstance(c, dict))


def watched_lines(claude_roots: list[Path] | None, codex: Path | None) -> list[str]:
    """Every agent and the paths it was looked for in, as the empty Usage screen and
    ``tokentop agents`` name them (``--claude-dir`` / ``--codex-dir`` applied)."""
    from tokentop.store.usage.agents import locations
    from tokentop.tui.format import clean

    lines = ["tokentop: no agent logs found; looked in:"]
    found = locations()
    width = max(len(loc.label) for loc in found) + 2
    for loc in found:
        paths: tuple[Path, ...] = loc.paths
        if loc.name == "claude" and claude_roots:
            paths = tuple(r / "projects" for r in claude_roots)
        elif loc.name == "codex" and codex is not None:
            paths = (codex,)
        shown = ", ".join(clean(str(p)) for p in paths) or "no default place"
        env = f"  ({', '.join(loc.env)})" if loc.env else ""
        lines.append(f"  {loc.label:<{width}}{shown}{env}")
    lines.append("Set the variable in brackets where an agent keeps its logs elsewhere"
                 " (tokentop agents lists them), or try tokentop --demo.")
    return lines


def _record(store: object, d: dict) -> None:
    """When this ingest finished, for ``tokentop collect --status``."""
    import sqlite3
    from datetime import UTC, datetime

    from tokentop.store.usage.runs import record_ingest

    conn = getattr(store, "conn", None)
    if conn is None or getattr(store, "read_only", False):
        return
    try:
        record_ingest(conn, datetime.now(UTC), {"inserted": d["inserted"],
                                                "elapsed_s": round(d["elapsed_s"], 3)})
        commit = getattr(store, "commit", None)
        if commit is not None:
            commit()
    except sqlite3.Error as e:  # the events are stored; only the note is missing
        click.echo(f"tokentop: cannot record the ingest time: {e}", err=True)


def _ingest_team(url: str, roots: list[Path] | None, codex: Path | None,
                 progress: Percent | None, as_json: bool, hosts: tuple[str, ...]) -> None:
    """Collect into this machine's cache of the team store (and each --host box's logs
    with it), then push (``team``)."""
    from tokentop.store.usage.collect import collect_once
    from tokentop.store.usage.team.location import shown
    from tokentop.tui.commands.team import ingest_team

    def collect(store: object) -> tuple[object, dict, bool]:
        try:
            report = collect_once(store, claude_roots=roots, codex_dir=codex,  # type: ignore[arg-type]
                                  progress=progress)
        finally:
            if progress is not None:
                progress.end()
        remote: dict = {}
        failed = False
        boxes = wanted_hosts(hosts)
        if boxes:
            remote, failed = collect_hosts(store, boxes)
        _record(store, report.as_dict())
        return report, remote, failed

    (report, remote, failed), pushed = ingest_team(url, collect)
    d = report.as_dict()  # type: ignore[attr-defined]
    d["team"] = {"store": shown(url), "sent": pushed.sent, "written": pushed.written}
    _print(d, as_json, roots, codex, remote, failed,
           f"team store {shown(url)}: {pushed.sent} sent, {pushed.written} new or changed")


@click.command("ingest")
@click.option("--store", "store_path", metavar="PATH",
              help="Usage store [default: $XDG_STATE_HOME/tokentop/usage.db], or a team "
              "store: postgresql://user@host/db.")
@click.option("--claude-dir", "claude_dirs", metavar="DIR", multiple=True,
              help="Claude Code root holding projects/ (repeatable) "
              "[default: $CLAUDE_CONFIG_DIR, ~/.config/claude, ~/.claude].")
@click.option("--codex-dir", metavar="DIR",
              help="Codex sessions directory [default: $CODEX_HOME/sessions].")
@click.option("--json", "as_json", is_flag=True, help="Counts as one JSON line.")
@host_option
def ingest(store_path: str | None, claude_dirs: tuple[str, ...], codex_dir: str | None,
           as_json: bool, hosts: tuple[str, ...]) -> None:
    """Collect new usage of every agent tokentop reads into the store, once.

    With --host (or hosts in the config file), each box's Claude Code and Codex logs
    too, over ssh: only the bytes appended since the last read travel. A box that
    cannot be reached is one line on stderr and exit status 1; the others are stored."""
    from tokentop.store.usage.collect import collect_once
    from tokentop.store.usage.db import UsageStore, UsageStoreError
    from tokentop.store.usage.paths import default_db_path

    roots = [Path(d).expanduser() for d in claude_dirs] or None
    for r in roots or ():
        _readable_dir(r, "Claude directory")
    codex = Path(codex_dir).expanduser() if codex_dir else None
    if codex is not None:
        _readable_dir(codex, "Codex directory")
    progress = Percent() if sys.stderr.isatty() else None
    if is_team_url(store_path):
        assert store_path is not None
        _ingest_team(store_path, roots, codex, progress, as_json, hosts)
        return
    path = Path(store_path).expanduser() if store_path else default_db_path()
    try:
        store = UsageStore.open(path)
    except (UsageStoreError, OSError) as e:
        store_open_failed(path, e)
    remote: dict = {}
    remote_failed = False
    try:
        report = collect_once(store, claude_roots=roots, codex_dir=codex, progress=progress)
        if progress is not None:
            progress.end()
            progress = None
        boxes = wanted_hosts(hosts)
        if boxes:
            remote, remote_failed = collect_hosts(store, boxes)
        _record(store, report.as_dict())
    except (UsageStoreError, OSError) as e:
        fail(f"ingest failed: {e}")
    finally:
        if progress is not None:
            progress.end()
        close = getattr(store, "close", None)
        if close is not None:
            close()
    _print(report.as_dict(), as_json, roots, codex, remote, remote_failed)


def _print(d: dict, as_json: bool, roots: list[Path] | None, codex: Path | None,
           remote: dict, remote_failed: bool, team_line: str | None = None) -> None:
    if remote:
        d["hosts"] = remote
    text = _table(d) if not remote else "\n".join([_table(d), *host_lines(remote)])
    if team_line is not None:
        text += "\n" + team_line
    click.echo(json.dumps(d, separators=(",", ":")) if as_json else text)
    for line in unreadable_lines(d):
        click.echo(line, err=True)
    if found_nothing(d) and not any(h.get("ok") for h in remote.values()):
        for line in watched_lines(roots, codex):
            click.echo(line, err=True)
    if remote_failed:
        sys.exit(1)
