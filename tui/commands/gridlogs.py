"""``tokentop logs`` and ``tokentop spans``: gridctl's logs and traces files as JSON lines.

The same readers as the Logs (7) and Spans (8) screens (``tokentop.store.gridctl``): the newest
``--tail`` lines of each server's files (rotated siblings, plain or gzipped, included
when the active file holds fewer), merged by time, one JSON object per line on stdout.
``logs --follow`` then keeps printing what gridctl appends (a rotation is followed, a
wiped file read again) until Ctrl-C. A summary of what was skipped goes to stderr.

No Textual here: headless commands start fast.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import TYPE_CHECKING, Any, NoReturn

import click

from tokentop.tui.commands.common import fail, telemetry_dir

if TYPE_CHECKING:
    from tokentop.store.gridctl.follow import SignalFollower

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
FOLLOW_SECONDS = 0.25



def _follower(directory: str | None, signal: str, tail: int) -> SignalFollower[Any]:
    from tokentop.store.gridctl import logs as logs_mod
    from tokentop.store.gridctl import spans as spans_mod
    from tokentop.store.gridctl.follow import SignalFollower
    from tokentop.store.metrics.layout import Layout

    target = telemetry_dir(directory)
    parse = logs_mod.parse_lines if signal == "logs" else spans_mod.parse_lines
    return SignalFollower(Layout.resolve(target), signal, parse, capacity=tail)


def _check_server(follower: SignalFollower[Any], server: str | None) -> None:
    if server and server not in follower.servers():
        known = ", ".join(follower.servers()) or "none"
        fail(f"no server {server!r} (known: {known})")


def _emit(objs: list[dict[str, Any]]) -> None:
    if not objs:
        return
    # Written a line at a time, not joined: a 64 MiB tail held twice more cost 100 MB.
    try:
        for o in objs:
            sys.stdout.write(json.dumps(o, separators=(",", ":"), ensure_ascii=False) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_exit()


def _quiet_exit() -> NoReturn:
    """``| head`` closed stdout: stop quietly (and keep Python from complaining at exit)."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(0)


def _summary(follower: SignalFollower[Any], printed: int, what: str) -> None:
    st = follower.stats
    parts = [f"{printed:,} {what} printed", f"{len(follower.servers())} servers",
             f"{st.malformed:,} malformed"]
    if st.truncated_gz:
        parts.append(f"{st.truncated_gz} truncated .gz")
    click.echo("tokentop: " + ", ".join(parts), err=True)
    for path in sorted(st.unreadable):  # named, not skipped in silence
        click.echo(f"tokentop: cannot read {path}: permission denied", err=True)
    if st.malformed and st.last_error:
        click.echo(f"tokentop: last malformed line: {st.last_error}", err=True)


@click.command("logs", context_settings=CONTEXT)
@click.argument("directory", metavar="[DIR]", required=False)
@click.option("--json", "as_json", is_flag=True, help="JSON lines (the default and only form).")
@click.option("--server", metavar="STACK/SERVER", help="Only this server.")
@click.option("--level", metavar="LEVEL", help="Minimum level: debug, info, warn or error.")
@click.option("--grep", "grep", metavar="TEXT",
              help="Only records whose message or attributes contain TEXT (any case).")
@click.option("--tail", "tail", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Newest lines read per server.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new records until Ctrl-C.")
def logs(directory: str | None, as_json: bool, server: str | None, level: str | None,
         grep: str | None, tail: int, follow: bool) -> None:
    """Print gridctl's logs.jsonl records (Go slog JSON) as JSON lines, oldest first.

    DIR is the telemetry root (all stacks) or one stack directory [default:
    $GRIDCTL_HOME/.gridctl/telemetry or ~/.gridctl/telemetry]. Each line: server, time (UTC),
    ts (as written, with its offset), level, msg, attrs.
    """
    from tokentop.store.gridctl.logs import LogRecord, min_level

    try:
        threshold = min_level(level)
    except ValueError as exc:
        fail(f"--level: {exc}")
    follower = _follower(directory, "logs", tail)
    records: list[LogRecord] = follower.load()
    _check_server(follower, server)
    needle = grep or ""

    def keep(rec: LogRecord) -> bool:
        return (server is None or rec.server == server) and rec.matches(threshold, needle)

    records.sort(key=lambda r: r.ns)  # stable: file order within an instant
    printed = 0
    batch = [r.to_json() for r in records if keep(r)]
    _emit(batch)
    printed += len(batch)
    if follow:
        stop = threading.Event()
        try:
            while not stop.wait(FOLLOW_SECONDS):
                batch = [r.to_json() for r in follower.rescan() if keep(r)]
                _emit(batch)
                printed += len(batch)
        except KeyboardInterrupt:
            _summary(follower, printed, "records")
            sys.exit(130)
    _summary(follower, printed, "records")


@click.command("spans", context_settings=CONTEXT)
@click.argument("directory", metavar="[DIR]", required=False)
@click.option("--json", "as_json", is_flag=True, help="JSON lines (the default and only form).")
@click.option("--server", metavar="STACK/SERVER", help="Only this server.")
@click.option("--trace", "trace_id", metavar="ID",
              help="Only this trace (hex id), as a waterfall: tree order, depth, offset.")
@click.option("--tail", "tail", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Newest traces.jsonl lines read per server.")
def spans(directory: str | None, as_json: bool, server: str | None, trace_id: str | None,
          tail: int) -> None:
    """Print the spans of gridctl's traces.jsonl (OTLP-JSON) as JSON lines.

    One line per span, oldest first: server, traceId and spanId (hex), parentSpanId,
    name, kind, start (UTC), durationNs, tool (mcp.tool.name, else tool.name: failed
    calls too), client, status, tokens (gen_ai.usage.*), attributes, events (time, name,
    attributes: exceptions). With --trace, the spans of that trace in waterfall order,
    each with depth and offsetNs from the trace's start.
    """
    from tokentop.store.gridctl.spans import Span, waterfall

    follower = _follower(directory, "traces", tail)
    held: list[Span] = follower.load()
    _check_server(follower, server)
    chosen = [s for s in held if server is None or s.server == server]
    if trace_id is not None:
        wanted = trace_id.strip().lower()
        chosen = [s for s in chosen if s.trace_id == wanted]
        if not chosen:
            fail(f"no spans of trace {trace_id!r} in the newest {tail:,} lines per server")
        out = []
        for row in waterfall(chosen):
            doc = row.span.to_json()
            doc["depth"] = row.depth
            doc["offsetNs"] = row.offset_ns
            out.append(doc)
        _emit(out)
        _summary(follower, len(out), "spans")
        return
    chosen.sort(key=lambda s: s.start_ns)
    _emit([s.to_json() for s in chosen])
    _summary(follower, len(chosen), "spans")
