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

Rows = tuple[tuple[str, str], ...]

# Each key means one thing on every screen (tests/test_keys.py checks the bindings).
EVERYWHERE: Rows = (
    ("q", "quit"),
    ("?", "this help, opened at the current screen's section; esc closes it"),
    ("space", "pause / follow: freeze the display, keep reading"),
    ("!", "dismiss the alert banner (alerts: the [alerts] table of the config file)"),
    ("tab  1 … 8", "next screen; 1 Overview, 2 Usage, 3 Events, 4 Traces, 5 Access, "
                   "6 Files, 7 Logs, 8 Spans; or click one in the screen bar"),
    ("r  R", "next / previous range (Overview, Access) or window (Usage); or click one"),
    ("b  B", "next / previous breakdown (Usage, Access)"),
    ("s  S", "next / previous server (Logs, Spans)"),
    ("e", "errors only, or everything again (Traces, Logs)"),
    ("x", "clear the filters: show everything (Traces, Events)"),
    ("/", "search or filter; enter keeps it, esc clears it"),
    ("enter  esc", "open the selected row's detail; close it (then clear the search)"),
    ("o  O", "sort by the next column / reverse the order (▼ ▲ mark the key): servers, "
             "Usage's table, Files, Traces (newest, latency, cost, tokens: every page)"),
    ("y", "copy the selected row's id or JSON (trace, session, event, log line, span, "
          "server, path) to the clipboard: OSC 52, works over SSH"),
    (",  .", "chart cursor one bucket back / forward: reads the bucket's exact values "
             "(Overview, Access, Traces analytics); esc hides it"),
    ("<  >", "scroll the charts one range back in time / forward again, up to now"),
    ("ctrl+p", "command palette: themes, screenshots"),
)

SHOWS: Rows = (
    ("u  U", "chart source: metrics files, usage store, both; or click one"),
    ("/", "filter servers by substring; enter keeps the filter, esc clears it"),
    ("↑ ↓ enter", "pick a server (or click it): the charts draw it against the fleet"),
    ("esc", "clear the filter, then the picked server"),
    ("cards", "input, output, total tokens and cost over the range, for the fleet "
              "or the picked server"),
    ("charts", "tokens and USD per bucket: minutes for Live/1h/6h, hours for 24h/7d, "
               "merged to fit the width (the 'per ...' in the legend)"),
    ("servers", "busiest first; activity and tokens over the range; total and cost "
                "are gridctl's cumulative counters"),
    ("status", "oldest retained data, files followed, lines read, malformed lines "
               "skipped, time since the last line"),
    ("source", "u: gridctl's metrics files; the usage store (cards: tokens, cost, the "
               "busiest bucket, active buckets; no server list); or both on one chart"),
)


USAGE: Rows = (
    ("r  R", "next / previous window: 1d, 3d, 7d, 30d (rolling: the N x 24 h up to "
             "now), month (calendar month to date, UTC), all; or click one"),
    ("b  B", "next / previous view: by model, provider, agent, project, tool (calls), "
             "sessions"),
    ("enter", "on a session: its models and messages (esc closes)"),
    ("cards", "tokens (input + output + cache), cost, burn rate over the last hour, "
              "sessions and messages in the window"),
    ("cost", "the source's cost when it gave one, else the bundled price table; a "
             "model without a price is listed as unpriced, never counted as $0"),
    ("block", "the active 5-hour block and its projection to the block's end"),
    ("quotas", "the latest limit snapshot per provider, with the time to 100% at the "
               "recent rate"),
)


EVENTS: Rows = (
    ("/  enter", "filter by text; enter opens the detail pane of the row"),
    ("C K G A …", "show / hide a category: shift + its underlined letter (C console, "
                  "K network, G page, A interaction, T control, I connection, E system, "
                  "N screenshot, P captcha, M monitor, F platform, H other); x shows all"),
    ("↑ ↓  end", "pick a row (the log holds still); end follows the tail again and "
                 "unpauses"),
    ("log", "local time, seq, category, type and a one-line summary per event; "
            "markers where events are missing: dropped upstream (a gap in seq), not "
            "shown (the viewer fell behind), stream restarted"),
    ("header", "received, rate/s over the last minute, dropped upstream and in the "
               "viewer, duplicates, truncated (payloads above 1 MB), per category"),
    ("detail", "enter: the event as JSON, decoded only then; base64 blobs collapsed"),
    ("source", "--events URL (SSE; --events-replay from the server's buffer) or a "
               "JSONL file, followed"),
)


TRACES: Rows = (
    ("] [", "next / previous page (newest first)"),
    ("f m c", "filter by provider, model, status code; the cards and analytics follow "
              "provider and model"),
    ("t", "cycle the tenant (all, then each org/workspace, most traces first; only "
          "when the store holds more than one)"),
    ("e", "errors only (every 4xx and 5xx)"),
    ("x", "clear every filter, the tenant and the search"),
    ("/", "search id, group, provider, model, route or key; enter applies, esc puts "
          "it away"),
    ("p", "pick a provider, model, status or tenant from a list; type to narrow"),
    ("o  O", "sort newest first, or by latency, cost or tokens across every page; O "
             "reverses (oldest, fastest, cheapest, fewest)"),
    ("v  g", "the list or the analytics; g cycles the analytics bucket: hour, day, week"),
    ("cards", "requests, tokens, cost, error rate and p95 latency over the window"),
    ("list", "the gateway's traces, newest first, paged by its own cursor; enter: "
             "headers (credentials redacted) and bodies"),
    ("analytics", "latency p50/p95/p99 per model, error rates, tokens and cost over "
                  "time; the queue-pressure badge from --diagnostics"),
)

ACCESS: Rows = (
    ("b  B", "next / previous breakdown: outcome, integration, cache source"),
    ("r  R", "next / previous range of the chart (the cards cover every read)"),
    ("cards", "reads, share served from cache, tokens saved, delivered / original"),
    ("below", "breakdown by outcome, integration or cache source; tokens saved per "
              "minute; top paths; the last reads"),
)

FILES: Rows = (
    ("w  W", "wipe the row's files / every signal of its server (asks first, listing "
             "every file)"),
    ("table", "what gridctl keeps per server and signal: size, files, span, last write"),
)

LOGS: Rows = (
    ("l", "cycle the minimum level: all, info, warn, error"),
    ("e", "errors only, or everything again"),
    ("s  S", "next / previous server (or click one on the left)"),
    ("/  enter", "search; enter opens the record's detail"),
    ("end", "follow the tail again (and unpause)"),
    ("list", "logs.jsonl: local time, level, server, component, message; enter: every "
             "attribute, ts as written"),
)

SPANS: Rows = (
    ("s  S", "next / previous server (or click one on the left)"),
    ("a", "tool calls only / every span (the selection stays on its span)"),
    ("/  enter", "search; enter opens the trace as a waterfall"),
    ("end", "follow the tail again (and unpause)"),
    ("list", "traces.jsonl (OTLP): tool calls with client, duration, status, tokens"),
)

# Mode name -> the section's title and rows, in the screen bar's order.
SECTIONS: dict[str, tuple[str, Rows]] = {
    "overview": ("1 Overview", SHOWS),
    "usage": ("2 Usage", USAGE),
    "events": ("3 Events", EVENTS),
    "traces": ("4 Traces", TRACES),
    "access": ("5 Access", ACCESS),
    "files": ("6 Files", FILES),
    "logs": ("7 Logs", LOGS),
    "spans": ("8 Spans", SPANS),
}

# Every key row of the help, for tests that look a key up.
KEYS: Rows = EVERYWHERE + tuple(row for _, rows in SECTIONS.values() for row in rows)


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
    team = getattr(host, "usage_team", None)
    if usage_path is None:
        usage = "none"
    elif team:
        from tokentop.store.redact import redact_url

        usage = (f"{fmt.clean(redact_url(team))} (team store; collecting agent logs;"
                 f" read from {fmt.clean(usage_path)})")
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


def section_body(title: str, rows: Rows | list[tuple[str, str]]) -> Group:
    """One titled two-column section."""
    return Group(Text(title, style="bold underline"), _grid(rows), Text())


class HelpScreen(ModalScreen[None]):
    """Keys and data sources, one section per screen; any of esc, ?, enter closes it.

    Opened from a screen (``section``: its mode name), it starts at that screen's
    section: the keys a user wants are the ones of the screen they are looking at.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="help.close", key_display="esc"),
        Binding("question_mark", "close", "Close", id="help.close-help", show=False),
        Binding("enter", "close", "Close", id="help.close-enter", show=False),
    ]

    def __init__(self, section: str | None = None) -> None:
        super().__init__()
        self.section = section

    def compose(self) -> ComposeResult:
        host = cast(DashboardHost, self.app)
        with Vertical(id="help-dialog") as dialog:
            dialog.border_title = "tokentop help"
            dialog.border_subtitle = "↑ ↓ scroll · esc closes"
            with VerticalScroll(id="help-scroll"):
                yield Static(section_body("Keys on every screen", EVERYWHERE),
                             id="help-everywhere")
                for mode, (title, rows) in SECTIONS.items():
                    yield Static(section_body(title, rows), id=f"help-{mode}")
                yield Static(section_body("Data", data_rows(host)), id="help-data")

    def on_mount(self) -> None:
        scroll = self.query_one("#help-scroll", VerticalScroll)
        scroll.focus()
        if self.section in SECTIONS:
            self.call_after_refresh(self._open_at, f"#help-{self.section}")

    def _open_at(self, selector: str) -> None:
        """Scroll the screen's section to the top (no animation: it opens there)."""
        scroll = self.query_one("#help-scroll", VerticalScroll)
        scroll.scroll_to_widget(self.query_one(selector), top=True, animate=False,
                                immediate=True)

    def action_close(self) -> None:
        self.dismiss()
