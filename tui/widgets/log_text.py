"""How a gridctl log record looks: one line in the log, and the detail pane.

Everything from the file (messages, attribute keys and values, server names) is
untrusted: it is only ever appended to ``rich.text.Text`` after ``format.clean``, never
parsed as markup. Times are the record's instant in the viewer's local zone; the detail
keeps the text gridctl wrote (with its own offset) too.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from rich.text import Text

from tokentop.store.gridctl.logs import LogRecord, human_duration
from tokentop.tui import format as fmt
from tokentop.tui.widgets.cells import fit

LEVEL_STYLES = {
    "DEBUG": "#9da5b4",
    "INFO": "bold #61afef",
    "WARN": "bold #1e2127 on #e5c07b",
    "ERROR": "bold #ffffff on #be5046",
}
MSG_STYLES = {"DEBUG": "dim", "INFO": "", "WARN": "#e5c07b", "ERROR": "bold #e06c75"}

# Attributes shown on the line, in this order, before the others; the routing keys are
# already in their own column.
KEY_ATTRS = ("tool", "duration", "error", "trace_id")
ERROR_FIRST = ("error", "tool", "duration", "trace_id")  # a failure says why first
SERVER_WANT = 12  # the server column until longer names arrive
SERVER_CAP = 32
HIDDEN_ON_LINE = {"component", "server"}


def local_clock(ns: int, *, date: bool = False) -> str:
    """``HH:MM:SS.mmm`` (or with the date) of an instant, in local time."""
    try:
        dt = datetime.fromtimestamp(ns / 1e9)
    except (OverflowError, OSError, ValueError):
        return "--:--:--.---"
    stamp = dt.strftime("%Y-%m-%d %H:%M:%S." if date else "%H:%M:%S.")
    return stamp + f"{dt.microsecond // 1000:03d}"


def is_duration_key(key: str, value: Any) -> bool:
    """slog writes ``time.Duration`` values as integer nanoseconds."""
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    leaf = key.rsplit(".", 1)[-1]
    return leaf in ("duration", "elapsed", "latency", "retry_after", "threshold", "timeout") \
        or leaf.endswith("_duration")


def attr_value(key: str, value: Any) -> str:
    """An attribute's value as shown: durations human-readable, the rest compact."""
    if is_duration_key(key, value):
        return human_duration(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def short_id(trace_id: str) -> str:
    return trace_id[:8] + "…" if len(trace_id) > 9 else trace_id


def render_log_row(record: LogRecord, width: int, *, show_server: bool = True,
                   server_want: int = 19) -> Text:
    """``12:01:00.123 INFO  prod/github  tool call completed  tool=… duration=1.25 s``.

    ``show_server`` is off when the view is one server: the column would repeat it. The
    server column is ``server_want`` wide (the longest name held), cut with ``…`` only
    past a third of the row (a quarter under 90 cells); an ``error`` attribute comes
    right after the message, so a narrow row still says why a call failed.
    """
    wide = width >= 90
    badge = record.badge
    text = Text(no_wrap=True, overflow="ellipsis")
    stamp = local_clock(record.ns)
    text.append(stamp if wide else stamp[:8], style="dim")
    text.append(" ")
    text.append(f" {badge:<5} ", style=LEVEL_STYLES[badge])
    text.append(" ")
    if show_server:
        size = max(8, min(server_want, width // (3 if wide else 4)))
        text.append(fit(fmt.clean(record.server), size), style="#56b6c2")
        text.append(" ")
    component = record.component
    if wide and component and component != record.server.rsplit("/", 1)[-1]:
        text.append(fit(fmt.clean(component), min(14, len(component))), style="#c678dd")
        text.append(" ")
    text.append(fmt.clean(record.msg), style=MSG_STYLES[badge])
    for key, value in key_attrs(record):
        text.append("  ")
        text.append(fmt.clean(key), style="dim")
        text.append("=", style="dim")
        shown = short_id(value) if key == "trace_id" and isinstance(value, str) else \
            attr_value(key, value)
        text.append(fmt.clean(shown), style="bold" if key in ("tool", "duration") else "")
    return text


def key_attrs(record: LogRecord) -> list[tuple[str, Any]]:
    attrs = record.attrs
    order = ERROR_FIRST if "error" in attrs else KEY_ATTRS
    out = [(k, attrs[k]) for k in order if k in attrs]
    out.extend((k, v) for k, v in attrs.items() if k not in KEY_ATTRS and k not in
               HIDDEN_ON_LINE)
    return out


def detail_text(record: LogRecord) -> Text:
    """Every field of a record, one per line: local time, the original ``ts``, attributes."""
    text = Text()

    def row(key: str, value: str, style: str = "") -> None:
        text.append(f"{fmt.clean(key):>14}  ", style="dim")
        text.append(fmt.clean(value), style=style)
        text.append("\n")

    row("time", local_clock(record.ns, date=True) + " (local)", "bold")
    row("ts", record.ts)
    row("level", record.level, LEVEL_STYLES[record.badge])
    row("server", record.server, "#56b6c2")
    row("msg", record.msg, "bold")
    for key, value in record.attrs.items():
        shown = attr_value(key, value)
        if isinstance(value, dict | list) and len(shown) > 40:
            shown = json.dumps(value, indent=2, ensure_ascii=False)  # pretty, over lines
        if is_duration_key(key, value):
            shown += f"  ({value:,} ns)"
        if "\n" in shown:
            text.append(f"{fmt.clean(key):>14}  ", style="dim")
            text.append("\n")
            for part in shown.splitlines():
                text.append("                " + fmt.clean(part) + "\n")
            continue
        row(key, shown)
    text.rstrip()
    return text
