"""``tokentop collect``: keep ingesting while tokentop is not running, so the store
outlives the agents' own log cleanup (Claude Code deletes logs after 30 days).

``--install`` hands ``tokentop ingest`` to the user's scheduler (a systemd user timer,
a launchd agent on macOS, or a crontab line), ``--uninstall`` takes it back and
``--status`` says what is installed and when an ingest last finished. No daemon of
tokentop's own: see ``tokentop.tui.commands.collect_schedule``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from tokentop.tui.commands.common import fail


def _ago(at: datetime, now: datetime) -> str:
    seconds = int((now - at).total_seconds())
    if seconds < 120:
        return f"{max(seconds, 0)} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def _last_ingest_line(store: str | None) -> str:
    from tokentop.store.usage.paths import default_db_path
    from tokentop.store.usage.reports import ReportError, connect_read_only
    from tokentop.store.usage.runs import last_ingest
    from tokentop.store.usage.team.location import cache_path, is_team_url

    # a team store: this machine's ingests are recorded in its cache
    path = (cache_path(store) if is_team_url(store) else
            Path(store).expanduser() if store else default_db_path())
    try:
        conn = connect_read_only(path)
    except ReportError:
        return f"last ingest: never (no usage store at {path})"
    try:
        last = last_ingest(conn)
    finally:
        conn.close()
    if last is None:
        return f"last ingest: none recorded in {path}"
    at = last["at"]
    return (f"last ingest: {at:%Y-%m-%d %H:%M:%S} UTC ({_ago(at, datetime.now(UTC))}), "
            f"{last.get('inserted', 0)} events inserted")


@click.command("collect")
@click.option("--install", "action", flag_value="install",
              help="Run tokentop ingest every few minutes from the user's scheduler.")
@click.option("--uninstall", "action", flag_value="uninstall",
              help="Remove exactly what --install put in place.")
@click.option("--status", "action", flag_value="status", default=True,
              help="What is installed, and when an ingest last ran (the default).")
@click.option("--method", type=click.Choice(["auto", "systemd", "launchd", "cron"]),
              default="auto", show_default=True,
              help="Scheduler: auto is launchd on macOS, the systemd user manager where "
                   "it answers, else cron.")
@click.option("--every", "minutes", type=click.IntRange(1, 59), default=5,
              show_default=True, help="Minutes between ingests.")
@click.option("--store", "store", metavar="PATH",
              help="Usage store the job fills [default: $XDG_STATE_HOME/tokentop/usage.db].")
@click.option("--dry-run", is_flag=True, help="Print what would be written and run.")
def collect(action: str, method: str, minutes: int, store: str | None,
            dry_run: bool) -> None:
    """Keep the usage store filling while tokentop is not running: a systemd user timer,
    a launchd agent (macOS) or a crontab line that runs tokentop ingest."""
    from tokentop.tui.commands import collect_schedule as sched

    try:
        if action == "install":
            p = sched.plan(sched.pick_method(method), store, minutes)
            if dry_run:
                for path, text in p.files.items():
                    click.echo(f"would write {path}:")
                    click.echo(text.rstrip("\n"))
                if p.crontab_line is not None:
                    click.echo(f"would add to the crontab: {p.crontab_line}")
                for command in p.commands:
                    click.echo(f"would run: {' '.join(command)}")
                return
            for line in sched.install(p):
                click.echo(line)
        elif action == "uninstall":
            for line in sched.uninstall(dry_run):
                click.echo(line)
        else:
            found = sched.installed()
            if not found:
                click.echo("not installed (tokentop collect --install)")
            for kind, items in found.items():
                for item in items:
                    click.echo(f"{kind}: {item}")
            if "systemd" in found:
                state = sched.timer_state()
                if state:
                    click.echo(f"systemd timer: {state}")
            click.echo(_last_ingest_line(store))
    except sched.ScheduleError as e:
        fail(str(e))
    except OSError as e:
        fail(f"cannot {action}: {e.strerror or e}: {e.filename or ''}".rstrip(": "))
