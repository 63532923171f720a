"""The ``tokentop`` command line.

Kept free of Textual at import time: ``tokentop --help`` and the headless commands
must answer fast (well under 0.3 s), and only the dashboard needs the UI stack.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import ClassVar

import click

from tokentop.store.chartranges import RANGE_NAMES
from tokentop.tui.commands.common import LATENCY_CACHE_MODES, fail, telemetry_dir

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _OneLineUsageError(click.UsageError):
    """A usage error as one line on stderr (exit 2), like every other refusal: click's
    three lines (usage, hint, error) for ``--status 99999999999999999999`` read as a
    crash in a script's log, and the value quoted is the user's text, escaped."""

    def show(self, file: object = None) -> None:
        from tokentop.tui.output import escape_output

        path = self.ctx.command_path if self.ctx is not None else "tokentop"
        root = self.ctx.find_root().command_path if self.ctx is not None else path
        command = path.removeprefix(root).strip()  # "traces": which one refused
        text = " ".join(self.format_message().split())
        where = f"{command}: " if command else ""
        click.echo(f"tokentop: {where}{escape_output(text)} (see {path} --help)", err=True)


def _one_line(exc: click.UsageError) -> click.UsageError:
    """``exc`` as one line; a group named without its command still shows its help."""
    from click.exceptions import NoArgsIsHelpError

    if isinstance(exc, (_OneLineUsageError, NoArgsIsHelpError)):
        return exc
    return _OneLineUsageError(exc.format_message(), exc.ctx)


class _LazyGroup(click.Group):
    """Subcommands imported when named: ``tokentop report`` does not pay for the
    trace store, the event stream and the rest (~100 ms of imports). ``--help`` lists
    them all, and only then imports each."""

    LAZY: ClassVar[dict[str, tuple[str, str]]] = {  # name -> (module, attribute)
        "ingest": ("ingest", "ingest"), "report": ("report", "report"),
        "agents": ("agents", "agents"), "pricing": ("pricing", "pricing"),
        "db": ("db", "db"), "events": ("events", "events"), "traces": ("traces", "traces"),
        "access": ("access", "access"), "inventory": ("files", "inventory"),
        "wipe": ("files", "wipe"), "logs": ("gridlogs", "logs"),
        "spans": ("gridlogs", "spans"), "serve": ("serve", "serve"),
        "config": ("tokentop.tui.config.command", "config"),
        "statusline": ("statusline", "statusline"), "collect": ("collect", "collect"),
        "watch": ("watch", "watch"), "export": ("export", "export"),
    }

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: object) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)  # type: ignore[arg-type]
        except click.UsageError as exc:
            raise _one_line(exc) from None

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # a subcommand's options, at any depth
            raise _one_line(exc) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.LAZY and cmd_name not in self.commands:
            import importlib

            module, attr = self.LAZY[cmd_name]
            if "." not in module:
                module = f"tokentop.tui.commands.{module}"
            found = importlib.import_module(module)
            self.add_command(getattr(found, attr), cmd_name)
        return super().get_command(ctx, cmd_name)


def _check_dir(path: str | None) -> None:
    telemetry_dir(path, "metrics directory")


def _check_home() -> None:
    """A relative GRIDCTL_HOME, which gridctl refuses: one line, not a traceback."""
    from tokentop.store.metrics.layout import GridctlHomeError, default_root

    try:
        default_root()
    except GridctlHomeError as exc:
        fail(str(exc))


@click.group(cls=_LazyGroup, invoke_without_command=True, context_settings=CONTEXT)
@click.option("--demo", is_flag=True, help="Run on built-in demo data that keeps changing.")
@click.option(
    "--metrics-dir",
    "metrics_dir",
    metavar="DIR",
    help="gridctl telemetry root or one stack directory, or USER@BOX:PATH on a box "
    "(followed over ssh) [default: $GRIDCTL_HOME/.gridctl/telemetry or ~/.gridctl/telemetry].",
)
@click.option("--poll", is_flag=True, help="Poll files instead of using filesystem events "
              "(for network filesystems).")
@click.option("--ring-days", type=click.IntRange(1, 90), default=7, show_default=True,
              help="Days of per-minute history kept in memory.")
@click.option("--store", "store", metavar="PATH",
              help="Usage database to show [default: $XDG_STATE_HOME/tokentop/usage.db]; "
              "a foreign one (openusage's telemetry.db) is opened read-only; "
              "postgresql://... is a team store.")
@click.option("--events", "events", metavar="SOURCE",
              help="Browser event stream for the Events screen (3): an http(s) SSE URL, "
              "a JSONL file to follow, a saved page of GET /telemetry/events, or - for "
              "stdin.")
@click.option("--events-replay", is_flag=True,
              help="Start the SSE stream from the oldest event the server still buffers.")
@click.option("--traces", "traces", metavar="PATH|URL",
              help="Gateway trace store for the Traces screen (4): an ongoingai SQLite "
              "file, or a postgresql:// URL.")
@click.option("--org", "org_id", metavar="ORG_ID",
              help="Traces screen: only this organization's traces (the gateway's org_id).")
@click.option("--workspace", "workspace_id", metavar="WORKSPACE_ID",
              help="Traces screen: only this workspace's traces (the gateway's workspace_id).")
@click.option("--latency-cache", "latency_cache", type=click.Choice(LATENCY_CACHE_MODES),
              default="auto", show_default=True,
              help="Per-day latency histograms of the trace store, so percentiles need "
              "no full scan: kept in a file under $XDG_STATE_HOME/tokentop, in memory "
              "for this run, or off (scan every time); auto: file on SQLite, off on "
              "PostgreSQL.")
@click.option("--diagnostics", "diagnostics", metavar="URL|FILE",
              help="Gateway trace-pipeline diagnostics: the gateway's base URL, or a JSON "
              "file of /api/diagnostics/trace-pipeline.")
@click.option("--access", "access", metavar="URL|FILE",
              help="airstore's access log for the Access screen (5): "
                   "https://HOST/api/v1/workspaces/WS, polled (token in AIRSTORE_TOKEN), "
                   "or a JSONL file of events or saved API pages, followed live.")
@click.option("--host", "hosts", metavar="USER@BOX", multiple=True,
              help="Also collect this box's agent logs over ssh, with your keys and "
              "~/.ssh/config; repeatable. Only appended bytes travel.")
@click.option("--remote-tokentop", "remote_tokentops", metavar="BOX=PATH", multiple=True,
              help="The tokentop on a --host box, which reads its SQLite agents (OpenCode, "
              "Goose, ...) [default: tokentop on its PATH or in ~/.local/bin].")
@click.version_option(package_name="tokentop")
@click.pass_context
def main(ctx: click.Context, **_given: object) -> None:
    """top for AI agent usage: a live dashboard of tokens and cost.

    Run without a command to open the dashboard. Keys: ? help, q quit. Every option can
    be set in $XDG_CONFIG_HOME/tokentop/config.toml (see tokentop config).
    """
    if ctx.invoked_subcommand is not None:
        from tokentop.tui.output import install

        install()  # every line a headless command prints goes through one escaping rule
        return
    from tokentop.tui.config.settings import dashboard_settings

    settings = dashboard_settings(ctx)  # the command line over the config file
    opt = settings.options
    if not opt["demo"] and opt["metrics_dir"] is None:
        _check_home()
    from tokentop.tui.run import run_dashboard
    from tokentop.tui.sources.traces import set_dashboard_scope

    set_dashboard_scope(opt["org_id"], opt["workspace_id"])
    if opt.get("remote_tokentops"):
        from tokentop.store.usage.remote_databases import ENV

        os.environ[ENV] = ",".join(opt["remote_tokentops"])  # type: ignore[arg-type]

    sys.exit(run_dashboard(demo=opt["demo"], metrics_dir=opt["metrics_dir"], poll=opt["poll"],
                           capacity_minutes=opt["ring_days"] * 24 * 60, store=opt["store"],
                           events=opt["events"], events_replay=opt["events_replay"],
                           traces=opt["traces"], latency_cache=opt["latency_cache"],
                           diagnostics=opt["diagnostics"], access=opt["access"],
                           hosts=tuple(opt["hosts"] or ()),  # type: ignore[arg-type]
                           prefs=settings.app_prefs()))


@main.command("metrics", context_settings=CONTEXT)
@click.argument("directory", metavar="[DIR]", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (the default).")
@click.option("--text", "as_text", is_flag=True,
              help="Print tables instead: totals per server, tools by tokens, skills.")
@click.option("--range", "range_name", type=click.Choice(RANGE_NAMES), default="all",
              show_default=True, help="Time range ending at --until.")
@click.option("--server", metavar="STACK/SERVER", help="Only this server.")
@click.option("--until", metavar="ISO8601", help="End of the range [default: now].")
@click.option("--ring-days", type=click.IntRange(1, 90), default=7, show_default=True,
              help="Days of per-minute history kept.")
def metrics_cmd(directory: str | None, as_json: bool, as_text: bool, range_name: str,
                server: str | None, until: str | None, ring_days: int) -> None:
    """Replay gridctl metrics files and print tokens and cost over time, tokens per MCP
    tool (gridctl's tool_usage) and skill usage (its __skills__ prompt_usage).

    DIR is the telemetry root (all stacks) or one stack directory, here or on a box
    (USER@BOX:PATH, read over ssh into a copy under $XDG_STATE_HOME). Cost exists only in
    files from before gridctl removed it (2026-08-07): "cost_recorded" says whether any.
    """
    from tokentop.store.metrics import MetricsSource, metrics_document
    from tokentop.store.timeparse import parse_instant

    follower = None
    if directory is not None and not Path(directory).exists():
        from tokentop.tui.run import remote_metrics

        follower = remote_metrics(directory, follow=False)
        if follower is not None:
            if follower.error is not None:
                fail(f"--metrics-dir: {follower.error}")
            directory = str(follower.mirror.local)
    _check_dir(directory)
    until_minute = None
    if until:
        try:
            until_minute = int(parse_instant(until).timestamp()) // 60
        except ValueError:
            fail(f"--until is not an ISO 8601 time: {until!r}")
    elif range_name != "all":
        until_minute = int(time.time()) // 60
    source = MetricsSource(directory, capacity_minutes=ring_days * 24 * 60)
    source.replay()
    if server and server not in source.ring.servers():
        known = ", ".join(source.ring.servers()) or "none"
        fail(f"no server {server!r} (known: {known})")
    doc = metrics_document(source, range_name, server, until_minute)
    for name in [*source.unreadable, *sorted(source.state.stats.unreadable)]:
        click.echo(f"tokentop: cannot read {name}: permission denied", err=True)
    if as_text and as_json:
        fail("--json and --text: pick one")
    if as_text:
        from tokentop.tui.commands.metrics_text import render_text

        click.echo(render_text(doc))
        return
    click.echo(json.dumps(doc, separators=(",", ":")))



if __name__ == "__main__":
    main()
