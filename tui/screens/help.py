"""The help screen: keys, what each screen shows, where the data comes from.

A modal over the dashboard (which keeps updating underneath). The data section
names the actual directory being read, so "why is it empty?" has an answer on screen.
"""

from __future__ import annotations

from typing import ClassVar, cast

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tokentop.tui import format as fmt
from tokentop.tui.screens import DashboardHost

KEYS: tuple[tuple[str, str], ...] = (
    ("q", "quit"),
    ("?", "this help; esc closes it"),
    ("space", "pause / follow: freeze the display, keep reading files"),
    ("r  R", "next / previous range: Live (30 min), 1h, 6h, 24h, 7d; or click one"),
    ("s  S", "chart source: metrics files, usage store, both; or click one"),
    ("/", "filter servers by substring; enter keeps the filter, esc clears it"),
    ("↑ ↓ enter", "pick a server (or click it): the charts draw it against the fleet"),
    ("esc", "clear the filter, then the picked server"),
    ("tab  1 … 8", "next screen; 1 Overview, 2 Usage, 3 Events, 4 Traces, 5 Access, "
                   "6 Files, 7 Logs, 8 Spans"),
    ("w  W", "Usage: next / previous window: 1d, 3d, 7d, 30d (rolling: the N x 24 h up "
             "to now), month (calendar month to date, UTC), all; or click one"),
    ("b  B", "Usage: next / previous view: by model, provider, agent, project, tool "
             "(calls), sessions; enter on a session opens its models and messages"),
    ("/  enter", "Events: filter by text; enter opens the detail pane of the row"),
    ("c n p i …", "Events: show / hide a category (its underlined letter); x shows all"),
    ("end", "Events, Logs, Spans: follow the tail again (and unpause)"),
    ("] [", "Traces: next / previous page (newest first)"),
    ("f m s x", "Traces: filter by provider, model, status; the cards and analytics follow "
                "provider and model; x clears every filter and the search"),
    ("e", "Traces: errors only (every 4xx and 5xx)"),
    ("/", "Traces: search id, group, provider, model, route or key; enter applies, esc "
          "puts it away"),
    ("p", "Traces: pick a provider, model, status or tenant from a list; type to narrow"),
    ("o  O", "sort by the next column / reverse the order (▼ ▲ mark the key): servers, "
             "Usage's table, Files, Traces (newest, latency, cost, tokens: every page)"),
    ("y", "copy the selected row's id or JSON (trace, session, event, log line, span, "
          "server, path) to the clipboard: OSC 52, works over SSH"),
    ("v  b", "Traces: the list or the analytics; b cycles the bucket: hour, day, week"),
    ("t", "Traces: cycle the tenant (all, then each org/workspace, most traces first; "
          "only when the store holds more than one); x clears it"),
    ("b B  r R", "Access: next / previous breakdown; next / previous range"),
    ("w  W", "Files: wipe the row's files / every signal of its server (asks first)"),
    ("l  d i w e", "Logs: cycle / set the minimum level (debug = all)"),
    ("s  S", "Logs, Spans: next / previous server (or click one on the left)"),
    ("/  enter", "Logs, Spans: search; enter opens the detail / the trace waterfall"),
    ("a", "Spans: tool calls only / every span"),
    ("ctrl+p", "command palette: themes, screenshots"),
)

SHOWS: tuple[tuple[str, str], ...] = (
    ("cards", "input, output, total tokens and cost over the range, for the fleet "
              "or the picked server"),
    ("charts", "tokens and USD per bucket: minutes for Live/1h/6h, hours for 24h/7d, "
               "merged to fit the width (the 'per ...' in the legend)"),
    ("servers", "busiest first; activity and tokens over the range; total and cost "
                "are gridctl's cumulative counters"),
    ("status", "oldest retained data, files followed, lines read, malformed lines "
               "skipped, time since the last line"),
    ("source", "s: gridctl's metrics files; the usage store (cards: tokens, cost, the "
               "busiest bucket, active buckets; no server list); or both on one chart"),
)


USAGE: tuple[tuple[str, str], ...] = (
    ("cards", "tokens (input + output + cache), cost, burn rate over the last hour, "
              "sessions and messages in the window"),
    ("cost", "the source's cost when it gave one, else the bundled price table; a "
             "model without a price is listed as unpriced, never counted as $0"),
    ("block", "the active 5-hour block and its projection to the block's end"),
    ("quotas", "the latest limit snapshot per provider, with the time to 100% at the "
               "recent rate"),
)


EVENTS: tuple[tuple[str, str], ...] = (
    ("log", "local time, seq, category, type and a one-line summary per event; "
            "markers where events are missing: dropped upstream (a gap in seq), not "
            "shown (the viewer fell behind), stream restarted"),
    ("header", "received, rate/s over the last minute, dropped upstream and in the "
               "viewer, duplicates, truncated (payloads above 1 MB), per category"),
    ("keys", "space pauses the log (counting goes on); ↑ ↓ pick a row, end follows "
             "again; c console, n network, p page, i interaction, t control, "
             "o connection, y system, s screenshot, h captcha, m monitor, e other"),
    ("detail", "enter: the event as JSON, decoded only then; base64 blobs collapsed"),
    ("source", "--events URL (SSE; --events-replay from the server's buffer) or a "
               "JSONL file, followed"),
)


TRACES: tuple[tuple[str, str], ...] = (
    ("cards", "requests, tokens, cost, error rate and p95 latency over the window"),
    ("list", "the gateway's traces, newest first, paged by its own cursor; enter: "
             "headers (credentials redacted) and bodies"),
    ("analytics", "latency p50/p95/p99 per model, error rates, tokens and cost over "
                  "time; the queue-pressure badge from --diagnostics"),
)

ACCESS: tuple[tuple[str, str], ...] = (
    ("cards", "reads, share served from cache, tokens saved, delivered / original"),
    ("below", "breakdown by outcome, integration or cache source; tokens saved per "
              "minute; top paths; the last reads"),
)

GRIDCTL: tuple[tuple[str, str], ...] = (
    ("Files", "what gridctl keeps per server and signal: size, files, span, last "
              "write; wipe with a confirmation that lists every file"),
    ("Logs", "logs.jsonl: local time, level, server, component, message; enter: "
             "every attribute, ts as written"),
    ("Spans", "traces.jsonl (OTLP): tool calls with client, duration, status, tokens; "
              "enter: the trace as a waterfall"),
)


def _grid(rows: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> Table:
    """Two columns; the second wraps under itself, not under the key."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True, min_width=9)
    table.add_column(ratio=1)
    for key, what in rows:
        table.add_row(key, Text(what))
    return table


def data_rows(host: DashboardHost) -> list[tuple[str, str]]:
    """Where the numbers come from; the path is escaped plain text."""
    source = host.source
    days = source.ring.capacity / 1440
    offset = fmt.local_offset_minutes(host.now_minute())
    sign = "+" if offset >= 0 else "-"
    usage_path = getattr(host, "usage_path", None)
    if usage_path is None:
        usage = "none"
    else:
        usage = fmt.clean(usage_path) + (" (collecting agent logs)"
                                         if getattr(host, "usage_collect", False)
                                         else " (read-only)")
    sources = getattr(host, "sources", None)
    events = sources.events if sources is not None else None
    watching = ("polling (--poll)" if host.poll
                else "filesystem events (--poll for network filesystems)")
    return [
        ("metrics", fmt.clean(source.root)),
        ("layout", "<stack>/<server>/metrics.jsonl, rotated siblings and .gz"),
        ("kept", f"{days:g} days per minute in memory (--ring-days)"),
        ("watching", watching),
        ("times", f"local, UTC{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}; "
                  "the store and --json are UTC"),
        ("elsewhere", "--metrics-dir DIR, or GRIDCTL_HOME "
                      "(reads $GRIDCTL_HOME/.gridctl/telemetry)"),
        ("usage", f"{usage}; --store PATH for another (openusage's: read-only)"),
        ("events", fmt.clean(events.shown_name) if events is not None
         else "none; --events URL|FILE"),
        ("traces", _target(getattr(host, "traces_target", None),
                           "none; --traces FILE|postgresql://…")),
        ("access", _target(getattr(host, "access_path", None), "none; --access FILE")),
    ]


def _target(target: str | None, missing: str) -> str:
    """A source as given on the command line, without a URL's password."""
    if not target:
        return missing
    if "://" in target and "@" in target:
        scheme, rest = target.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        target = f"{scheme}://{creds.split(':', 1)[0]}@{host}"
    return fmt.clean(target)


def help_body(host: DashboardHost) -> Group:
    """The whole help: three titled two-column sections."""
    title = "bold underline"
    return Group(
        Text("Keys", style=title), _grid(KEYS), Text(),
        Text("Overview", style=title), _grid(SHOWS), Text(),
        Text("Usage", style=title), _grid(USAGE), Text(),
        Text("Events", style=title), _grid(EVENTS), Text(),
        Text("Traces", style=title), _grid(TRACES), Text(),
        Text("Access", style=title), _grid(ACCESS), Text(),
        Text("gridctl files", style=title), _grid(GRIDCTL), Text(),
        Text("Data", style=title), _grid(data_rows(host)),
    )


class HelpScreen(ModalScreen[None]):
    """Keys and data sources; any of esc, ?, enter closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="help.close", key_display="esc"),
        Binding("question_mark", "close", "Close", id="help.close-help", show=False),
        Binding("enter", "close", "Close", id="help.close-enter", show=False),
    ]

    def compose(self) -> ComposeResult:
        host = cast(DashboardHost, self.app)
        with Vertical(id="help-dialog") as dialog:
            dialog.border_title = "tokentop help"
            dialog.border_subtitle = "esc closes"
            with VerticalScroll(id="help-scroll"):
                yield Static(help_body(host), id="help-body")

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()

    def action_close(self) -> None:
        self.dismiss()
