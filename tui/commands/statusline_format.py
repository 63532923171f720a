"""The status line's text: one line, its placeholders, and its colors.

It renders a snapshot of plain values (``tokentop.store.usage.glance.snapshot``), not
the read model's objects, so a line served from the few-seconds cache
(``statusline_cache``) imports neither the read model nor the price table. ``--format``
has one list of placeholders (``FIELDS``) the help, the checks and the renderer
share. A template is only ever filled with these fields' strings: no attribute or
index lookups (``{today.__class__}`` is refused), so a format string in a config file
cannot reach into the program.
"""

from __future__ import annotations

import math
import time
from typing import Any

from tokentop.tui.commands.claude_status import ClaudeStatus

FIELDS: dict[str, str] = {
    "today": "today's cost (since local midnight)",
    "block": "cost of the active 5-hour block ('-' if none)",
    "left": "time left in the active block ('-' if none)",
    "block_end": "local time the active block ends ('-' if none)",
    "burn": "cost per hour over the last hour",
    "quota": "nearest quota: name and percent used ('' if none known)",
    "quota_reset": "time until the nearest quota resets ('' if unknown)",
    "session": "Claude Code session cost, from stdin ('' without input)",
    "model": "Claude Code model, from stdin ('' without input)",
}
DEFAULT_SEPARATOR = " | "

RESET = "\x1b[0m"
GREEN, YELLOW, RED, DIM = "\x1b[32m", "\x1b[33m", "\x1b[31m", "\x1b[2m"


class FormatError(ValueError):
    """A ``--format`` template tokentop cannot fill."""


def check_template(template: str) -> None:
    """Refuse unknown placeholders, lookups and conversions, in one line."""
    import string  # only with --format: the default line needs no template

    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as e:
        raise FormatError(f"bad --format: {e}") from None
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in FIELDS:
            known = ", ".join("{" + f + "}" for f in FIELDS)
            raise FormatError(f"unknown placeholder {{{name}}} in --format (known: {known})")
        if conversion or (spec and "{" in spec):
            raise FormatError(f"placeholder {{{name}}} takes no conversion in --format")


def safe(text: str) -> str:
    """``tokentop.tui.output.escape_output(text)``. Printable ASCII with nothing the
    redaction looks for (a URL, a password) comes out unchanged, so it is returned as
    it is without loading the output module (~5 ms of a warm status line), the same
    shortcut ``output.SafeBinary`` takes."""
    if text.isascii() and text.isprintable() and "://" not in text and (
            "assword" not in text.lower()):
        return text
    from tokentop.tui.output import escape_output

    return escape_output(text)


def money(value: float) -> str:
    return f"${value:,.2f}"


def duration(minutes: float) -> str:
    """``2h05m``, ``45m``, ``3d04h``: short enough for a status bar."""
    m = max(0, int(minutes))
    if m >= 24 * 60:
        return f"{m // (24 * 60)}d{m % (24 * 60) // 60:02d}h"
    if m >= 60:
        return f"{m // 60}h{m % 60:02d}m"
    return f"{m}m"


def nearest(quotas: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The quota closest to its limit, then the one projected full first."""
    return min(quotas, key=lambda q: (-q["fraction"], q.get("full_at") or math.inf),
               default=None)


def active_block(snap: dict[str, Any], now: float) -> dict[str, Any] | None:
    """The snapshot's block while it lasts (a kept snapshot can outlive it)."""
    block = snap.get("block")
    return block if block is not None and block["end"] > now else None


def values(snap: dict[str, Any], status: ClaudeStatus,
           now: float) -> tuple[dict[str, str], dict[str, Any] | None]:
    """Every placeholder's text (untrusted text escaped), and the quota shown.
    ``now``: epoch seconds."""
    block = active_block(snap, now)
    quota = nearest([*status.rate_limits, *snap["quotas"]])
    left = block_end = "-"
    if block is not None:
        left = duration(math.floor((block["end"] - now) / 60))
        block_end = time.strftime("%H:%M", time.localtime(block["end"]))
    reset = ""
    if quota is not None and quota.get("resets_at") is not None:
        reset = duration((quota["resets_at"] - now) / 60)
    out = {
        "today": money(snap["today"]),
        "block": money(block["cost"]) if block is not None else "-",
        "left": left,
        "block_end": block_end,
        "burn": f"{money(snap['burn'])}/h",
        "quota": (safe(f"{quota['name']} {quota['fraction'] * 100:.0f}%")
                  if quota else ""),
        "quota_reset": reset,
        "session": money(status.session_cost) if status.session_cost is not None else "",
        "model": safe(" ".join(status.model.split())),
    }
    return out, quota


def render_template(template: str, snap: dict[str, Any], status: ClaudeStatus,
                    now: float) -> str:
    """``template`` filled in (checked first: see :func:`check_template`)."""
    check_template(template)
    filled, _ = values(snap, status, now)
    return " ".join(template.format_map(filled).splitlines())


def _quota_color(q: dict[str, Any]) -> str:
    f = q["fraction"]
    return RED if f >= 0.9 else YELLOW if f >= 0.7 else GREEN


def render_default(snap: dict[str, Any], status: ClaudeStatus, now: float,
                   color: bool) -> str:
    """``Opus | session $0.53 | today $12.34 | block $3.21 (2h05m left) | $4.10/h |
    5h 42% (resets 1h10m)``: segments without data are left out."""
    v, quota = values(snap, status, now)

    def paint(code: str, text: str) -> str:
        return f"{code}{text}{RESET}" if color else text

    parts = []
    if v["model"]:
        parts.append(paint(DIM, v["model"]))
    if v["session"]:
        parts.append(f"session {v['session']}")
    parts.append(f"today {v['today']}")
    block = active_block(snap, now)
    if block is not None:
        left = v["left"]
        if block["end"] - now < 30 * 60:
            left = paint(YELLOW, left)
        parts.append(f"block {v['block']} ({left} left)")
    else:
        parts.append("no active block")
    parts.append(v["burn"])
    if quota is not None:
        text = v["quota"] + (f" (resets {v['quota_reset']})" if v["quota_reset"] else "")
        parts.append(paint(_quota_color(quota), text))
    return DEFAULT_SEPARATOR.join(parts)
