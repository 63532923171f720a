"""``tokentop serve``: the dashboard in a browser, through textual-serve.

Each browser tab gets its own dashboard process: the same ``tokentop`` command line,
with the dashboard options given to ``serve`` (``tokentop serve --demo``, or before it:
``tokentop --demo serve``). They are checked here by the dashboard's own parser, so a
typo fails now, in the terminal, not later in every tab.

Security model (the guards are in ``serve_http``): bound to loopback by default, where
only this machine's users reach it (and a token is still used when given); bound to any
other address it requires a token, generated and printed once unless given with
``--token`` or ``TOKENTOP_SERVE_TOKEN``. The URL with the token is printed once; nothing
else prints it.
"""

from __future__ import annotations

import os
import secrets
import shlex
import socket
import sys
from typing import Any
from urllib.parse import quote

import click
from click.core import ParameterSource

from tokentop.tui.commands.common import fail

TOKEN_ENV = "TOKENTOP_SERVE_TOKEN"
DEFAULT_PORT = 8000


def dashboard_args(ctx: click.Context, extra: list[str]) -> tuple[list[str], dict[str, Any]]:
    """The dashboard options for each tab's ``tokentop``: those given before ``serve``
    (rebuilt from the group's parsed values) then those after it, checked by the
    dashboard's parser (a bad one raises click's UsageError); with their parsed values."""
    group = ctx.find_root()
    before: list[str] = []
    for param in group.command.params:
        if not isinstance(param, click.Option) or param.name is None:
            continue
        if group.get_parameter_source(param.name) is not ParameterSource.COMMANDLINE:
            continue
        value = group.params[param.name]
        if param.is_flag:  # --x, or --no-x for a --x/--no-x pair given as off
            before += param.opts[:1] if value else param.secondary_opts[:1]
        else:
            before += [param.opts[0], str(value)]
    args = [*before, *extra]
    parsed = group.command.make_context("tokentop", list(args), parent=None)
    if parsed.args:  # a word that is not an option
        rest = " ".join(parsed.args)
        raise click.UsageError(f"serve passes on dashboard options only, not {rest!r}")
    return args, parsed.params


def page_url(host: str, port: int, token: str | None) -> str:
    """The URL to open: a wildcard bind is reached by this machine's name."""
    if host in ("", "0.0.0.0", "::"):
        host = socket.gethostname()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/" + (f"?token={quote(token, safe='')}" if token else "")


def print_url_line(line: str) -> None:
    """The one line that carries the token. Every other line goes through
    ``tokentop.tui.output``, which masks ``?token=`` in URLs, so this one is written to
    the stream beneath, unmasked: its parts are a bound address, a port and a URL-quoted
    token (anything unprintable would still show as ``?``)."""
    stream = sys.__stdout__ or sys.stdout
    stream.write("".join(c if c.isprintable() else "?" for c in line) + "\n")
    stream.flush()


@click.command("serve", context_settings={
    "help_option_names": ["-h", "--help"], "max_content_width": 100,
    "ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback requires the token.")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT,
              show_default=True, help="Port to listen on (0: any free port).")
@click.option("--token", envvar=TOKEN_ENV, show_envvar=True, metavar="TOKEN",
              help="Token the page URL must carry [default: none on loopback, "
              "else generated and printed once].")
@click.argument("dashboard_options", nargs=-1, type=click.UNPROCESSED,
                metavar="[DASHBOARD OPTIONS]...")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, token: str | None,
          dashboard_options: tuple[str, ...]) -> None:
    """Serve the dashboard in a browser: one dashboard per tab, with the dashboard
    options given here (e.g. tokentop serve --demo). Ctrl-C stops.

    Bound to 127.0.0.1 by default. Bound to another address, every request must carry
    the token (the printed URL does); without it the answer is 403.
    """
    from tokentop.tui.commands.serve_http import GuardedServer, is_loopback

    try:
        args, values = dashboard_args(ctx, list(dashboard_options))
    except click.UsageError as exc:  # said as serve's error, with serve's usage line
        raise click.UsageError(exc.message, ctx) from None
    from tokentop.tui.config.settings import dashboard_settings

    # config.toml once here: a broken file is one line and exit 2 now, not an error in
    # every tab; an ignored key is one warning here (each tab shows it too).
    dashboard_settings(ctx.find_root().command.make_context("tokentop", list(args)))
    if not values["demo"] and values["metrics_dir"] is None:
        from tokentop.tui.cli import _check_home

        _check_home()  # as the dashboard would, once here rather than in every tab
    if token == "":
        fail(f"--token / {TOKEN_ENV} is empty")
    if token is None and not is_loopback(host):
        token = secrets.token_urlsafe(24)
    os.environ.pop(TOKEN_ENV, None)  # the dashboards need not see it
    command = shlex.join([sys.executable, "-m", "tokentop.tui.cli", *args])
    server = GuardedServer(command, host=host, port=port, token=token)

    def listening(bound: int) -> None:
        print_url_line(f"tokentop serve: {page_url(host, bound, token)}  (Ctrl-C stops)")

    try:
        server.run(listening)
    except OSError as exc:
        message = str(exc).replace(token, "[token]") if token else str(exc)
        fail(f"cannot serve on {host}:{port}: {message}")
