"""Text for the Access screen: breakdown bars, top paths, timings and live-tail rows.

Paths, integrations and error messages come from the access log, so everything is
built as ``rich.text.Text`` from ``tokentop.tui.format.clean``-ed strings, never markup.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from tokentop.store.access import AccessEvent, ErrorStat, Group, PathStat, Timing
from tokentop.tui import format as fmt
from tokentop.tui.widgets.bars import bar

OUTCOME_STYLES = {"compressed": "#98c379", "cache_hit": "#61afef", "passthrough": "",
                  "skipped": "dim", "timeout": "#e5c07b", "error": "#e06c75"}


def outcome_style(outcome: str) -> str:
    return OUTCOME_STYLES.get(outcome, "italic")


def clip(value: str, width: int) -> str:
    """``value`` in at most ``width`` cells, keeping its end (a path's file name)."""
    if width <= 0:
        return ""
    if len(value) <= width:
        return value
    return "…" + value[len(value) - width + 1:] if width > 1 else "…"


def clip_end(value: str, width: int) -> str:
    """``value`` in at most ``width`` cells, keeping its start (a message's words)."""
    if len(value) <= width:
        return value
    return value[: max(0, width - 1)] + "…" if width > 0 else ""


def breakdown_text(groups: Sequence[Group], total: int, width: int, color: str,
                   *, styled: bool = False, rows: int | None = None) -> Text:
    """One row per group: ``name  ███▌   505  60%``, busiest first."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if not groups:
        text.append("no reads yet", style="italic dim")
        return text
    shown = list(groups)[:rows] if rows is not None else list(groups)
    name_w = min(14, max(len(g.name) for g in shown))
    bar_w = max(1, width - name_w - 1 - 7 - 5)
    top = max(g.reads for g in shown) or 1
    for i, g in enumerate(shown):
        if i:
            text.append("\n")
        name = clip(fmt.clean(g.name), name_w).ljust(name_w)
        text.append(name, style=outcome_style(g.name) if styled else "")
        text.append(" ")
        text.append(bar(g.reads / top, bar_w), style=color)
        text.append(fmt.count(g.reads).rjust(7))
        share = g.reads / total if total else 0.0
        text.append(f"{share:>5.0%}", style="dim")
    return text


def paths_text(paths: Sequence[PathStat], width: int) -> Text:
    """airstore's top paths: original tokens, reads, the path (its end kept) and, when
    there is room, its ``source_uri``."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if not paths:
        text.append("no reads yet", style="italic dim")
        return text
    for i, p in enumerate(paths):
        if i:
            text.append("\n")
        text.append(f"{fmt.tokens(p.total_tokens):>6}", style="bold")
        text.append(f" {fmt.count(p.events):>5} ", style="dim")
        rest = max(4, width - 13)
        path = fmt.clean(p.path)
        uri = fmt.clean(p.source_uri)
        if uri and rest >= 40:
            path_w = min(len(path), max(rest * 3 // 5, rest - len(uri) - 2))
            text.append(clip(path, path_w))
            text.append("  ")
            text.append(clip(uri, rest - path_w - 2), style="dim")
        else:
            text.append(clip(path, rest))
    return text


def timings_text(timings: Sequence[Timing], width: int) -> Text:
    """``latency      104 ms avg  420 ms max  1,204 timed``: one row per duration; a
    narrow panel (60 columns) keeps the averages (the max would wrap to a row of its
    own and push the last duration out)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, t in enumerate(timings):
        if i:
            text.append("\n")
        text.append(t.name.removesuffix("_ms").ljust(12))
        if not t.count:
            text.append("not recorded", style="italic dim")
            continue
        text.append(f"{duration(t.mean or 0.0):>7}", style="bold")
        text.append(" avg", style="dim")
        if width < 35:
            continue
        text.append(f" {duration(t.max):>7}")
        text.append(" max", style="dim")
        if width >= 50:
            text.append(f"  {fmt.count(t.count)} timed", style="dim")
    return text


def errors_text(errors: Sequence[ErrorStat], width: int, rows: int) -> Text:
    """Failed reads by message, busiest first: ``    16 timeout  compression timed out
    after 2000ms``; a message too long for the row goes on in the next, so it is read
    whole (as many messages as ``rows`` lines hold)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if not errors:
        text.append("no failed reads", style="italic dim")
        return text
    indent = 16
    room = max(4, width - indent)
    used = 0
    for e in errors:
        message = fmt.clean(e.message) or "(no message)"
        parts = textwrap.wrap(message, room, break_on_hyphens=False) or [message]
        if len(parts) > 2:  # two lines at most, the second cut with an ellipsis
            parts = [parts[0], clip_end(" ".join(parts[1:]), room)]
        if used and used + len(parts) > rows:
            break
        if used:
            text.append("\n")
        text.append(f"{fmt.count(e.count):>6} ", style="bold")
        text.append(clip(fmt.clean(e.outcome), 8).ljust(8), style=outcome_style(e.outcome))
        text.append(" ")
        style = "#e06c75" if e.message else "dim"
        text.append(parts[0], style=style)
        for part in parts[1:]:
            text.append("\n" + " " * indent)
            text.append(part, style=style)
        used += len(parts)
    return text


def duration(ms: float) -> str:
    if ms >= 10_000:
        return f"{ms / 1000:.0f} s"
    if ms >= 1000:
        return f"{ms / 1000:.1f} s"
    return f"{ms:.0f} ms"


def local_clock(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000).astimezone().strftime("%H:%M:%S")


def tail_row(ev: AccessEvent, width: int) -> Text:
    """``12:01:07 compressed  github   3.2k→410  content_cache  /github/acme/...``"""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(local_clock(ev.ts), style="dim")
    text.append(" ")
    text.append(clip(fmt.clean(ev.outcome) or "?", 11).ljust(11), style=outcome_style(ev.outcome))
    text.append(" ")
    text.append(clip(fmt.clean(ev.integration), 7).ljust(7))
    tokens = f"{fmt.tokens(ev.original_tokens)}→{fmt.tokens(ev.delivered_tokens)}"
    text.append(f" {tokens:>11} ", style="bold")
    used = 8 + 1 + 11 + 1 + 7 + 13
    if width >= 100:
        source = fmt.clean(ev.cache_source) or "unknown"  # GetSummary's name for none
        text.append(f"{clip(source, 13):<13} ", style="dim")
        text.append(f"{ev.latency_ms:>5}ms ", style="dim")
        text.append(f"{ev.origin:<8}", style="dim")  # mount (FUSE) or gateway
        used += 14 + 8 + 8
    rest = max(4, width - used)
    path = fmt.clean(ev.path)
    if ev.error_msg and width >= 100:
        message = fmt.clean(ev.error_msg)
        path_w = min(len(path), max(rest // 2, rest - len(message) - 2))
        text.append(clip(path, path_w))
        text.append("  ")
        text.append(clip(message, rest - path_w - 2), style="#e06c75")
    else:
        text.append(clip(path, rest))
    return text


def tail_text(events: Sequence[AccessEvent], width: int) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if not events:
        text.append("waiting for reads…", style="italic dim")
        return text
    for i, ev in enumerate(events):
        if i:
            text.append("\n")
        text.append_text(tail_row(ev, width))
    return text
