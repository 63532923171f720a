"""Text for the Access screen: breakdown bars, top paths and live-tail rows.

Paths, integrations and error messages come from the access log, so everything is
built as ``rich.text.Text`` from ``tokentop.tui.format.clean``-ed strings, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from tokentop.store.access import AccessEvent, Group
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


def paths_text(paths: Sequence[Group], width: int) -> Text:
    """The most read paths: reads, tokens saved, and the path (its end kept)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if not paths:
        text.append("no reads yet", style="italic dim")
        return text
    for i, g in enumerate(paths):
        if i:
            text.append("\n")
        text.append(fmt.count(g.reads).rjust(6), style="bold")
        text.append(f" {fmt.tokens(g.tokens_saved):>6} ", style="#98c379")
        text.append(clip(fmt.clean(g.name), max(4, width - 14)))
    return text


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
        source = "cache" if ev.cache_served else "backend"
        text.append(f"{clip(fmt.clean(ev.cache_source) or source, 13):<13} ", style="dim")
        text.append(f"{ev.latency_ms:>5}ms ", style="dim")
        used += 14 + 8
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
