"""Text for the Traces screen: latency bars, the error-rate table, the trace detail.

Models, routes, header values and bodies come from a gateway's database: everything
is built as ``rich.text.Text`` from ``tokentop.tui.format.clean``-ed strings, never markup,
and headers go through ``trace_redact`` first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from tokentop.store.traces import ErrorRateStats, LatencyStats, Trace
from tokentop.tui import format as fmt
from tokentop.tui.widgets.trace_redact import header_lines

MAX_BODY_CHARS = 64_000  # a body beyond this is cut (the detail pane is for reading)


def clip_head(value: str, width: int) -> str:
    """``value`` in at most ``width`` cells, keeping its start (a model's family)."""
    if len(value) <= width:
        return value
    return value[: max(0, width - 1)] + "…" if width > 0 else ""


def ms(value: float | None) -> str:
    """``850ms``, ``4.2s``, ``1m05s``; ``—`` for unknown."""
    if value is None:
        return "—"
    if value < 1000:
        return f"{value:.0f}ms"
    if value < 60_000:
        return f"{value / 1000:.1f}s"
    s = int(value // 1000)
    return f"{s // 60}m{s % 60:02d}s"


def usd(value: float | None) -> str:
    return "—" if value is None else fmt.usd(round(value * 1_000_000))


def status_style(status: int | None) -> str:
    if status is None:
        return "dim"
    if status >= 500:
        return "bold #e06c75"
    if status >= 400:
        return "bold #e5c07b"
    return "#98c379"


def local_time(dt: datetime | None, *, date: bool = False) -> str:
    if dt is None:
        return "—"
    return dt.astimezone().strftime("%b %d %H:%M:%S" if date else "%H:%M:%S")


def latency_text(stats: Sequence[LatencyStats], width: int, colors: tuple[str, str, str]
                 ) -> Text:
    """One row per model, slowest p95 first: a bar to p50 (solid), p95 (shaded) and
    p99 (light) on one scale, then the three figures under a header."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if not stats:
        text.append("no latencies in this window", style="italic dim")
        return text
    rows = sorted(stats, key=lambda s: (-s.p95_ms, s.group))
    name_w = min(26, max(6, max(len(s.group) for s in rows)), max(6, width * 2 // 5))
    figures = 3 if width - name_w - 2 - 21 >= 8 else 2  # p99 goes first when narrow
    bar_w = max(4, width - name_w - 2 - 7 * figures)
    top = max((s.p99_ms if figures == 3 else s.p95_ms) for s in rows) or 1.0
    p50c, p95c, p99c = colors
    head = "    p50    p95    p99" if figures == 3 else "    p50    p95"
    text.append(" " * (name_w + 2 + bar_w) + head, style="dim")
    for s in rows:
        text.append("\n")
        text.append(clip_head(fmt.clean(s.group or "(none)"), name_w).ljust(name_w) + "  ")
        a = min(bar_w, round(s.p50_ms / top * bar_w))
        b = min(bar_w, max(a, round(s.p95_ms / top * bar_w)))
        c = min(bar_w, max(b, round(s.p99_ms / top * bar_w))) if figures == 3 else b
        text.append("█" * a, style=p50c)
        text.append("▓" * (b - a), style=p95c)
        text.append("░" * (c - b), style=p99c)
        text.append(" " * (bar_w - c))
        text.append(f"{ms(s.p50_ms):>7}")
        text.append(f"{ms(s.p95_ms):>7}", style="bold")
        if figures == 3:
            text.append(f"{ms(s.p99_ms):>7}")
    return text


def errors_text(stats: Sequence[ErrorRateStats], width: int) -> Text:
    """``model  requests  4xx  5xx  rate``, worst rate first."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if not stats:
        text.append("no requests in this window", style="italic dim")
        return text
    rows = sorted(stats, key=lambda s: (-s.error_rate, -s.total_requests, s.group))
    name_w = max(6, width - 6 - 5 - 5 - 7 - 4)
    text.append("model".ljust(name_w) + "  reqs   4xx  5xx   rate", style="dim")
    for s in rows:
        text.append("\n")
        text.append(clip_head(fmt.clean(s.group or "(none)"), name_w).ljust(name_w))
        text.append(f"{fmt.count(s.total_requests):>6}")
        text.append(f"{s.error_count_4xx:>6}", style="#e5c07b" if s.error_count_4xx else "dim")
        text.append(f"{s.error_count_5xx:>5}", style="#e06c75" if s.error_count_5xx else "dim")
        rate = s.error_rate
        style = "bold #e06c75" if rate >= 0.1 else "bold #e5c07b" if rate >= 0.02 else "bold"
        text.append(f"{rate:>7.1%}", style=style)
    return text


def clean_lines(text: str) -> str:
    """Multi-line untrusted text: each line's control characters escaped, lines kept."""
    return "\n".join(fmt.clean(line) for line in text.split("\n"))


def pretty_body(body: str | None) -> str:
    """A JSON body indented; anything else as stored. Long bodies are cut, and say so."""
    if not body:
        return ""
    try:
        out = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        out = body
    if len(out) > MAX_BODY_CHARS:
        out = out[:MAX_BODY_CHARS] + f"\n… ({len(out) - MAX_BODY_CHARS:,} more characters)"
    return out


def detail_text(trace: Trace) -> Text:
    """Everything about one trace, headers redacted, bodies pretty-printed."""
    text = Text()

    def field(label: str, value: str, style: str = "") -> None:
        text.append(f"{label:<10}", style="dim")
        text.append(fmt.clean(value), style=style)
        text.append("\n")

    field("id", trace.id, "bold")
    # "stored" is the list's Time (its order); "started" is when the request began.
    field("stored", local_time(trace.created_at or trace.timestamp, date=True))
    field("started", local_time(trace.timestamp, date=True))
    field("model", f"{trace.provider} · {trace.model}")
    field("route", f"{trace.request_method} {trace.request_path}")
    field("status", "—" if trace.response_status is None else str(trace.response_status),
          status_style(trace.response_status))
    tokens = "—" if trace.total_tokens is None else (
        f"{fmt.count(trace.total_tokens)} ({fmt.count(trace.input_tokens or 0)} in, "
        f"{fmt.count(trace.output_tokens or 0)} out)")
    field("tokens", tokens)
    field("cost", usd(trace.estimated_cost_usd))
    field("latency", f"{ms(trace.latency_ms)} · first token "
                     f"{ms(trace.time_to_first_token_ms)}")
    field("key", trace.gateway_key_id or "—")
    if (trace.org_id, trace.workspace_id) != ("default", "default"):  # a tenant's trace
        field("tenant", f"org {trace.org_id} · workspace {trace.workspace_id}")
    if trace.trace_group_id:
        field("group", trace.trace_group_id)
    for title, body in (("Request headers", header_lines(trace.request_headers)),
                        ("Request body", pretty_body(trace.request_body)),
                        ("Response headers", header_lines(trace.response_headers)),
                        ("Response body", pretty_body(trace.response_body)),
                        ("Metadata", pretty_body(trace.metadata))):
        text.append(f"\n{title}\n", style="bold")
        text.append(clean_lines(body) if body else "(none)\n",
                    style="" if body else "italic dim")
        if body:
            text.append("\n")
    text.rstrip()
    return text
